"""tinygrad_ext.utils.data: datasets, samplers, default_collate, DataLoader."""

from collections import namedtuple

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)


def gen(seed):
    g = tgx.Generator()
    g.manual_seed(seed)
    return g


def make_xy(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) % 3
    return X, y


class PlainDataset(Dataset):
    """Same samples as TensorDataset(X, y), but not a TensorDataset (takes the collate path)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __getitem__(self, i):
        return tgx.tensor(self.X[i]), tgx.tensor(self.y[i])

    def __len__(self):
        return len(self.X)


# ---- datasets ------------------------------------------------------------------------------------
def test_tensor_dataset():
    X, y = make_xy()
    ds = TensorDataset(tgx.tensor(X), tgx.tensor(y))
    assert len(ds) == 10
    a, b = ds[4]
    np.testing.assert_array_equal(a.numpy(), X[4])
    assert b.item() == y[4] and b.shape == ()
    a, _ = ds[-1]
    np.testing.assert_array_equal(a.numpy(), X[-1])
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(tgx.tensor(X), tgx.tensor(y[:5]))
    with pytest.raises(TypeError, match="TensorDataset"):
        TensorDataset(X)
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_concat():
    X, y = make_xy()
    ds = TensorDataset(tgx.tensor(X), tgx.tensor(y))
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[1][0].numpy(), X[2])
    cat = ConcatDataset([sub, ds])
    assert len(cat) == 13 and cat.cumulative_sizes == [3, 13]
    np.testing.assert_array_equal(cat[2][0].numpy(), X[5])
    np.testing.assert_array_equal(cat[3][0].numpy(), X[0])
    np.testing.assert_array_equal(cat[-1][0].numpy(), X[9])
    with pytest.raises(IndexError, match="out of range"):
        cat[13]
    assert len(sub + ds) == 13
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_random_split_lengths_and_fractions():
    ds = list(range(10))
    a, b = random_split(ds, [3, 7], generator=gen(0))
    assert len(a) == 3 and len(b) == 7
    assert sorted(list(a) + list(b)) == ds
    c, d = random_split(ds, [3, 7], generator=gen(0))
    assert list(a) == list(c) and list(b) == list(d)
    orders = {
        tuple(list(p) + list(q))
        for p, q in (random_split(ds, [3, 7], generator=gen(s)) for s in range(5))
    }
    assert len(orders) > 1  # the seed matters
    parts = random_split(list(range(11)), [0.5, 0.3, 0.2], generator=gen(2))
    # floor(5.5)=5, floor(3.3)=3, floor(2.2)=2, remainder 1 goes to the first split
    assert [len(p) for p in parts] == [6, 3, 2]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="non-negative integers"):
        random_split(ds, [11, -1])


def test_random_split_sizes_match_torch():
    torch = pytest.importorskip("torch")
    for n, fracs in [(11, [0.5, 0.3, 0.2]), (7, [0.1, 0.9]), (100, [0.33, 0.33, 0.34])]:
        ours = [len(s) for s in random_split(list(range(n)), fracs)]
        theirs = [len(s) for s in torch.utils.data.random_split(list(range(n)), fracs)]
        assert ours == theirs


# ---- samplers ------------------------------------------------------------------------------------
def test_samplers():
    data = list(range(7))
    assert list(SequentialSampler(data)) == data and len(SequentialSampler(data)) == 7
    r = list(RandomSampler(data, generator=gen(5)))
    assert sorted(r) == data
    assert r == list(RandomSampler(data, generator=gen(5)))
    rep = list(RandomSampler(data, replacement=True, num_samples=50, generator=gen(1)))
    assert len(rep) == 50 and set(rep) <= set(data) and len(set(rep)) > 1
    more = list(RandomSampler(data, num_samples=10, generator=gen(1)))
    assert len(more) == 10 and sorted(more[:7]) == data
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(data, num_samples=0)
    s = list(SubsetRandomSampler([10, 20, 30], generator=gen(0)))
    assert sorted(s) == [10, 20, 30]
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)


def test_manual_seed_makes_default_shuffle_reproducible():
    tgx.manual_seed(123)
    a = list(RandomSampler(range(20)))
    tgx.manual_seed(123)
    b = list(RandomSampler(range(20)))
    assert a == b and sorted(a) == list(range(20))


# ---- collate -------------------------------------------------------------------------------------
def test_default_collate_structures():
    Point = namedtuple("Point", "x y")
    batch = [
        {
            "img": tgx.tensor([[1.0, 2.0]]),
            "label": 1,
            "w": 0.5,
            "name": "a",
            "arr": np.array([1, 2], np.int32),
            "pt": Point(1, 2.0),
            "pair": (np.float32(1), True),
        },
        {
            "img": tgx.tensor([[3.0, 4.0]]),
            "label": 2,
            "w": 1.5,
            "name": "b",
            "arr": np.array([3, 4], np.int32),
            "pt": Point(3, 4.0),
            "pair": (np.float32(2), False),
        },
    ]
    out = default_collate(batch)
    assert out["img"].shape == (2, 1, 2)
    np.testing.assert_array_equal(out["img"].numpy(), [[[1, 2]], [[3, 4]]])
    assert out["label"].dtype == tgx.int64 and out["label"].tolist() == [1, 2]
    assert out["w"].dtype == tgx.float64 and out["w"].tolist() == [0.5, 1.5]
    assert out["name"] == ["a", "b"]
    assert out["arr"].dtype == tgx.int32 and out["arr"].tolist() == [[1, 2], [3, 4]]
    assert isinstance(out["pt"], Point) and out["pt"].x.tolist() == [1, 3]
    assert isinstance(out["pair"], list)  # tuples collate to lists (PyTorch's convention)
    assert out["pair"][0].dtype == tgx.float32 and out["pair"][1].dtype == tgx.bool
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_default_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate

    batch = [(np.arange(3.0) * i, i, {"a": float(i)}) for i in range(4)]
    ours, theirs = default_collate(batch), tcollate(batch)
    assert type(ours) is type(theirs) and len(ours) == 3
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    assert ours[0].dtype.name == str(theirs[0].dtype).replace("torch.", "")
    assert ours[1].tolist() == theirs[1].tolist() and ours[1].dtype == tgx.int64
    assert ours[2]["a"].tolist() == theirs[2]["a"].tolist() and ours[2]["a"].dtype == tgx.float64


# ---- DataLoader ----------------------------------------------------------------------------------
def batches_np(loader):
    return [[t.numpy() for t in b] for b in loader]


@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_sequential_batches(drop_last):
    X, y = make_xy(10)
    loader = DataLoader(
        TensorDataset(tgx.tensor(X), tgx.tensor(y)), batch_size=4, drop_last=drop_last
    )
    got = batches_np(loader)
    assert len(loader) == len(got) == (2 if drop_last else 3)
    for k, (xb, yb) in enumerate(got):
        np.testing.assert_array_equal(xb, X[4 * k : 4 * k + 4])
        np.testing.assert_array_equal(yb, y[4 * k : 4 * k + 4])
    assert sum(len(b[1]) for b in got) == (8 if drop_last else 10)


def test_fast_path_equals_collate_path_and_is_seeded():
    X, y = make_xy(23)
    fast = DataLoader(
        TensorDataset(tgx.tensor(X), tgx.tensor(y)), batch_size=5, shuffle=True, generator=gen(7)
    )
    slow = DataLoader(PlainDataset(X, y), batch_size=5, shuffle=True, generator=gen(7))
    a, b = batches_np(fast), batches_np(slow)
    assert len(a) == len(b) == 5
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    seen = np.concatenate([yb for _, yb in a])
    rows = np.concatenate([xb for xb, _ in a])
    assert sorted(rows[:, 0].tolist()) == sorted(X[:, 0].tolist())  # a permutation of all rows
    np.testing.assert_array_equal(seen, (rows[:, 0] // 3).astype(np.int64) % 3)
    # the generator advances: the next epoch is a different order, the same for the same seed
    assert any(not np.array_equal(p[0], q[0]) for p, q in zip(a, batches_np(fast)))


def test_fast_path_through_subset_and_custom_collate():
    X, y = make_xy(12)
    ds = TensorDataset(tgx.tensor(X), tgx.tensor(y))
    train, _ = random_split(ds, [8, 4], generator=gen(3))
    got = batches_np(DataLoader(train, batch_size=3))
    idx = list(train.indices)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), X[idx])

    def collate(samples):
        return len(samples)

    assert list(DataLoader(ds, batch_size=5, collate_fn=collate)) == [5, 5, 2]


def test_loader_samplers_and_options():
    X, y = make_xy(6)
    ds = TensorDataset(tgx.tensor(X), tgx.tensor(y))
    bs = BatchSampler(SequentialSampler(ds), 4, False)
    assert [b[1].tolist() for b in DataLoader(ds, batch_sampler=bs)] == [[0, 1, 2, 0], [1, 2]]
    loader = DataLoader(ds, sampler=[5, 0], batch_size=2)
    assert [b[0][:, 0].tolist() for b in loader] == [[15.0, 0.0]]
    unbatched = list(DataLoader(ds, batch_size=None))
    assert len(unbatched) == 6 and unbatched[2][0].shape == (3,)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=bs, batch_size=3)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.warns(UserWarning, match="num_workers=2"):
        loader = DataLoader(ds, batch_size=3, num_workers=2)
    assert len(list(loader)) == 2


def test_loader_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            for i in range(7):
                yield {"x": tgx.tensor([float(i)]), "i": i}

    batches = list(DataLoader(Stream(), batch_size=3))
    assert [b["i"].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert batches[0]["x"].shape == (3, 1)
    assert len(list(DataLoader(Stream(), batch_size=3, drop_last=True))) == 2
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(Stream()))
