"""A dataset importable without torch, for the DataLoader test that starts workers by spawn."""
import numtorch as nt


class SquaresDataset(nt.utils.data.Dataset):
    def __getitem__(self, i):
        return nt.tensor([float(i * i)]), i

    def __len__(self):
        return 5
