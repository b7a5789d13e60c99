"""The sequence-model examples run end to end on small settings and learn."""
import json

import pytest

from tests._examples import load_example as _load


def test_sine_lstm_lbfgs_lowers_the_loss(tmp_path, capsys):
    out = _load("sine_lstm").main(["--waves", "5", "--test", "2", "--length", "60",
                                   "--steps", "2", "--max-iter", "6", "--future", "20",
                                   "--out", str(tmp_path)])
    train = out["train_loss"]              # before step 1, before step 2, after step 2
    assert len(train) == 3 and train[-1] < 0.2 * train[0]
    assert out["test_loss"][-1] < 0.2 * train[0]
    assert "numtorch: final train loss" in capsys.readouterr().out
    assert (tmp_path / "history_numtorch.json").exists()


def test_sine_waves_have_random_phases():
    waves = _load("sine_lstm").make_waves(4, 50, seed=3)
    assert waves.shape == (4, 50) and waves.dtype.name == "float64"
    assert len({round(float(w), 6) for w in waves[:, 0]}) == 4


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_char_lm_beats_the_unigram_baseline(tmp_path, capsys, model):
    text = tmp_path / "pangram.txt"
    text.write_text("The quick brown fox jumps over the lazy dog.\n" * 120)
    out = _load("char_lm").main(["--text", str(text), "--model", model, "--steps", "60",
                                 "--width", "64", "--block", "32", "--batch-size", "16",
                                 "--eval-every", "30", "--sample-length", "40",
                                 "--prompt", "The quick", "--out", str(tmp_path)])
    assert 4.0 < out["unigram_bpc"] < 4.6           # 29 distinct characters, near uniform
    assert out["steps"] == 60
    assert out["val_bpc"] < 0.5 * out["unigram_bpc"]
    assert out["sample"].startswith("The quick") and len(out["sample"]) == len("The quick") + 40
    log = capsys.readouterr().out
    assert "validation" in log and "--- sample" in log
    hist = json.loads((tmp_path / f"history_{model}_numtorch.json").read_text())
    assert [h["step"] for h in hist["history"]] == [30, 60]


def test_unigram_baseline_is_the_cross_entropy_of_training_frequencies():
    import numpy as np
    lm = _load("char_lm")
    train, val = np.array([0, 0, 0, 1]), np.array([1, 1])
    h, ce = lm.unigram_bits(train, val, 2)            # add-one smoothed: p = (4/6, 2/6)
    assert ce == pytest.approx(-np.log2(2 / 6))
    assert h == pytest.approx(-(4 / 6) * np.log2(4 / 6) - (2 / 6) * np.log2(2 / 6))


def test_temporal_order_labels_follow_marker_order():
    sc = _load("seq_classify")
    x, lengths, y = sc.make_data(200, 8, 10, 30, seed=0)
    for row, n, label in zip(x, lengths, y):
        assert (row[n:] == sc.PAD).all() and (row[:n] != sc.PAD).all()
        pos = {m: list(row[:n]).index(m) for m in sc.MARKERS}
        assert label == 2 * (pos[1] < pos[2]) + (pos[3] < pos[4])
    assert set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_seq_classify_rnn_learns_order_and_bag_stays_at_chance(tmp_path, model):
    sc = _load("seq_classify")
    common = ["--train", "1000", "--test", "400", "--min-len", "10", "--max-len", "30",
              "--out", str(tmp_path)]
    rnn = sc.main(common + ["--model", model, "--bidirectional", "--epochs", "4"])
    assert rnn["test_acc"] > 0.6                      # chance is 0.25
    if model == "lstm":
        bag = sc.main(common + ["--model", "bag", "--epochs", "4"])
        assert bag["test_acc"] < 0.35
