"""A small training run for the kill-and-resume test, always started with ``resume=True``.

Usage: python tests/train/_resume_script.py OUT_DIR

Dropout, BatchNorm buffers, a random transform (noise from numtorch's default generator), Adam,
a per-step OneCycleLR, a validation split and mid-epoch checkpoints: every piece of state a
resume has to restore. Set NUMTORCH_TEST_SAVE_DELAY to widen the window of each save.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

import numtorch  # noqa: E402
from numtorch.train import Trainer  # noqa: E402
from numtorch.utils.data import Dataset  # noqa: E402

EPOCHS, BATCH, SAMPLES = 4, 32, 480      # 384 training samples: 12 batches per epoch
STEPS = EPOCHS * 12


class Noisy(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i] + 0.05 * numtorch.randn(self.x.shape[1]), self.y[i]


def main(out_dir):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, 32)).astype(np.float32)
    y = (x @ rng.standard_normal((32, 10))).argmax(1)
    numtorch.manual_seed(0)
    nn = numtorch.nn
    model = nn.Sequential(nn.Linear(32, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = numtorch.optim.Adam(model.parameters(), lr=1e-3)
    sched = numtorch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=STEPS)
    trainer = Trainer(model, opt, scheduler=sched, scheduler_interval="step", out_dir=out_dir,
                      checkpoint_every=3, batch_size=BATCH, seed=5, progress=False,
                      meta={"model": "resume-test"})
    trainer.fit(Noisy(numtorch.from_numpy(x), numtorch.from_numpy(y)), EPOCHS,
                val_fraction=0.2, resume=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
