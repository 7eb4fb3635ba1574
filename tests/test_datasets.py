"""tinygrad_ext.datasets: bundled digits/Iris, IDX (MNIST) reader, synthetic makers, splitting."""

import gzip
import hashlib
import struct

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import datasets as D


def sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---- bundled -------------------------------------------------------------------------------------
def test_load_digits():
    b = D.load_digits()
    assert b.data.shape == (1797, 64) and b.data.dtype == tgx.float32
    assert b.target.shape == (1797,) and b.target.dtype == tgx.int64
    assert b.images.shape == (1797, 8, 8) and b.images.dtype == tgx.float32
    X = b.data.numpy()
    np.testing.assert_array_equal(b.images.numpy().reshape(1797, 64), X)
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    # exact content (the values scikit-learn's load_digits gives)
    assert sha(X.astype(np.uint8)) == (
        "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
    )
    assert sha(b.target.numpy().astype(np.uint8)) == (
        "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"
    )
    assert X[0, :16].tolist() == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    counts = np.bincount(b.target.numpy()).tolist()
    assert counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert list(b.target_names) == list(range(10)) and len(b.feature_names) == 64
    assert "Alpaydin" in b.DESCR and b["data"] is b.data
    X2, y2 = D.load_digits(return_X_y=True, as_frame=True)
    np.testing.assert_array_equal(X2.numpy(), X)
    X3, y3 = D.load_digits(n_class=3, return_X_y=True)
    assert X3.shape == (537, 64) and set(y3.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="n_class"):
        D.load_digits(n_class=11)


def test_load_iris():
    b = D.load_iris()
    assert b.data.shape == (150, 4) and b.data.dtype == tgx.float32
    assert b.target.dtype == tgx.int64 and np.bincount(b.target.numpy()).tolist() == [50, 50, 50]
    tenths = np.round(b.data.numpy().astype(np.float64) * 10).astype(np.uint8)
    np.testing.assert_array_equal(b.data.numpy(), (tenths / np.float32(10)).astype(np.float32))
    assert tenths.sum(0).tolist() == [8765, 4586, 5637, 1799]
    assert sha(tenths) == "9f83d709ff543630793c65970cd232a7b86de6f44338e64fb2847e5b5d757634"
    assert b.data.numpy()[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert list(b.target_names) == ["setosa", "versicolor", "virginica"]
    assert b.feature_names[0] == "sepal length (cm)" and "Fisher" in b.DESCR
    X, y = D.load_iris(return_X_y=True)
    assert X.shape == (150, 4) and y.shape == (150,)
    X.mul_(0)  # callers get their own tensors: the cached copy is untouched
    assert D.load_iris().data.numpy()[0, 0] == np.float32(5.1)


def test_bunch():
    b = D.Bunch(a=1)
    b.c = 2
    assert b["c"] == 2 and b.a == 1 and "a" in dir(b)
    with pytest.raises(AttributeError):
        _ = b.missing


# ---- IDX / MNIST ---------------------------------------------------------------------------------
def idx_bytes(arr: np.ndarray, code: int) -> bytes:
    be = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(be).tobytes()


@pytest.mark.parametrize(
    "code,dtype,out",
    [
        (0x08, np.uint8, tgx.uint8),
        (0x09, np.int8, tgx.int32),
        (0x0B, np.int16, tgx.int32),
        (0x0C, np.int32, tgx.int32),
        (0x0D, np.float32, tgx.float32),
        (0x0E, np.float64, tgx.float64),
    ],
)
def test_read_idx_types(tmp_path, code, dtype, out):
    rng = np.random.default_rng(code)
    a = (rng.standard_normal((3, 4, 2)) * 50).astype(dtype)
    p = tmp_path / "x.idx"
    p.write_bytes(idx_bytes(a, code))
    t = D.read_idx(p)
    assert t.dtype == out and t.shape == (3, 4, 2)
    np.testing.assert_array_equal(t.numpy(), a)


def test_read_idx_gzip_and_errors(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    p = tmp_path / "a.idx.gz"
    p.write_bytes(gzip.compress(idx_bytes(a, 0x08)))
    np.testing.assert_array_equal(D.read_idx(p).numpy(), a)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match=r"'.*bad'.*too short"):
        D.read_idx(bad)
    bad.write_bytes(b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(bad)
    bad.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match="unknown IDX data type byte 0x07"):
        D.read_idx(bad)
    bad.write_bytes(idx_bytes(a, 0x08)[:-1])
    with pytest.raises(ValueError, match="needs 12 data bytes, file has 11 .truncated"):
        D.read_idx(bad)
    bad.write_bytes(idx_bytes(a, 0x08) + b"x")
    with pytest.raises(ValueError, match="trailing bytes"):
        D.read_idx(bad)
    bad.write_bytes(b"\x00\x00\x08\x03" + b"\x00\x00")
    with pytest.raises(ValueError, match="truncated header"):
        D.read_idx(bad)
    bad.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ValueError, match="corrupt gzip"):
        D.read_idx(bad)


def write_mnist(d, n, train, gz):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    stem = "train" if train else "t10k"
    for name, arr in ((f"{stem}-images-idx3-ubyte", imgs), (f"{stem}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr, 0x08)
        if gz:
            (d / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (d / name).write_bytes(data)
    return imgs, labels


def test_load_mnist(tmp_path):
    imgs, labels = write_mnist(tmp_path, 5, train=True, gz=False)
    X, y = D.load_mnist(tmp_path)
    assert X.dtype == tgx.uint8 and X.shape == (5, 28, 28) and y.dtype == tgx.int64
    np.testing.assert_array_equal(X.numpy(), imgs)
    np.testing.assert_array_equal(y.numpy(), labels)
    timgs, tlabels = write_mnist(tmp_path / "FashionMNIST" / "raw", 3, train=False, gz=True)
    X, y = D.load_mnist(tmp_path, train=False, kind="fashion")
    np.testing.assert_array_equal(X.numpy(), timgs)
    np.testing.assert_array_equal(y.numpy(), tlabels)
    assert len(D.FASHION_MNIST_CLASSES) == 10


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        D.load_mnist(tmp_path, train=False)
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert str(tmp_path) in msg and ".gz" in msg
    write_mnist(tmp_path, 2, train=True, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte") as e:
        D.load_mnist(tmp_path)
    assert "train-images" not in str(e.value)
    with pytest.raises(ValueError, match="kind"):
        D.load_mnist(tmp_path, kind="kmnist")


def test_load_mnist_mismatched_counts(tmp_path):
    write_mnist(tmp_path, 4, train=True, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8), 0x08))
    with pytest.raises(ValueError, match=r"N x H x W images and N labels"):
        D.load_mnist(tmp_path)


# ---- synthetic -----------------------------------------------------------------------------------
def test_make_regression_d2l():
    X, y, w = D.make_regression(1000, noise=0.01, bias=4.2, w=[2, -3.4], coef=True, random_state=0)
    assert X.shape == (1000, 2) and y.shape == (1000,) and X.dtype == y.dtype == tgx.float32
    np.testing.assert_array_equal(w.numpy(), np.array([2, -3.4], np.float32))
    Xn, yn = X.numpy().astype(np.float64), y.numpy().astype(np.float64)
    resid = yn - (Xn @ [2, -3.4] + 4.2)
    assert abs(resid.std() - 0.01) < 0.002 and abs(resid.mean()) < 0.002
    # the closed-form least-squares fit recovers w and b
    A = np.column_stack([Xn, np.ones(1000)])
    sol = np.linalg.lstsq(A, yn, rcond=None)[0]
    np.testing.assert_allclose(sol, [2, -3.4, 4.2], atol=2e-3)
    X0, y0 = D.make_regression(50, n_features=5, random_state=1)
    X1, y1 = D.make_regression(50, n_features=5, seed=1)
    np.testing.assert_array_equal(X0.numpy(), X1.numpy())
    np.testing.assert_array_equal(y0.numpy(), y1.numpy())
    _, _, w5 = D.make_regression(50, n_features=5, coef=True, random_state=1)
    np.testing.assert_allclose(X0.numpy() @ w5.numpy(), y0.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="w has 2 entries"):
        D.make_regression(10, n_features=3, w=[1, 2])


def test_seeding_rules():
    a = D.make_moons(20, noise=0.1, random_state=3)[0].numpy()
    b = D.make_moons(20, noise=0.1, random_state=3)[0].numpy()
    c = D.make_moons(20, noise=0.1, random_state=4)[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    tgx.manual_seed(9)
    d = D.make_blobs(30)[0].numpy()
    tgx.manual_seed(9)
    np.testing.assert_array_equal(D.make_blobs(30)[0].numpy(), d)
    g = tgx.Generator()
    g.manual_seed(5)
    e = D.make_spirals(30, random_state=g)[0].numpy()
    g.manual_seed(5)
    np.testing.assert_array_equal(D.make_spirals(30, random_state=g)[0].numpy(), e)
    with pytest.raises(TypeError, match="not both"):
        D.make_moons(10, random_state=1, seed=1)
    with pytest.raises(TypeError, match="random_state"):
        D.make_moons(10, random_state="x")


def test_make_moons_geometry():
    X, y = D.make_moons(101, shuffle=False)
    X = X.numpy().astype(np.float64)
    y = y.numpy()
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0, atol=1e-6)
    Xs, ys = D.make_moons((7, 3), noise=0.05, random_state=0)
    assert Xs.shape == (10, 2) and sorted(ys.tolist()) == [0] * 7 + [1] * 3


def test_make_spirals_and_blobs():
    X, y = D.make_spirals(301, n_classes=4, noise=0.0, shuffle=False)
    assert X.shape == (301, 2) and np.bincount(y.numpy()).tolist() == [76, 75, 75, 75]
    r = np.hypot(*X.numpy().astype(np.float64).T)
    assert r.max() <= 1 + 1e-6
    centers = [[0.0, 0.0], [10.0, 10.0]]
    X, y, C = D.make_blobs(
        [200, 100], centers=centers, cluster_std=[0.5, 2.0], random_state=0, return_centers=True
    )
    Xn, yn = X.numpy(), y.numpy()
    assert np.bincount(yn).tolist() == [200, 100]
    np.testing.assert_allclose(Xn[yn == 0].mean(0), [0, 0], atol=0.15)
    np.testing.assert_allclose(Xn[yn == 1].std(0), [2, 2], rtol=0.2)
    np.testing.assert_array_equal(C.numpy(), np.array(centers, np.float32))
    X, y = D.make_blobs(10, n_features=3, centers=4, random_state=0)
    assert X.shape == (10, 3) and np.bincount(y.numpy()).tolist() == [3, 3, 2, 2]
    with pytest.raises(ValueError, match="2 sample counts for 3 centers"):
        D.make_blobs([1, 2], centers=np.zeros((3, 2)))


def test_train_test_split():
    X = tgx.tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
    y = np.arange(10)
    names = [f"s{i}" for i in range(10)]
    Xtr, Xte, ytr, yte, ntr, nte = D.train_test_split(X, y, names, random_state=0)
    assert Xtr.shape == (7, 2) and Xte.shape == (3, 2)  # ceil(0.25 * 10) = 3 test samples
    assert isinstance(ytr, np.ndarray) and isinstance(ntr, list)
    np.testing.assert_array_equal(Xtr.numpy()[:, 0] // 2, ytr)
    assert [f"s{i}" for i in yte] == nte
    assert sorted(ytr.tolist() + yte.tolist()) == list(range(10))
    a, b = D.train_test_split(y, test_size=4, shuffle=False)
    assert a.tolist() == [0, 1, 2, 3, 4, 5] and b.tolist() == [6, 7, 8, 9]
    a, b = D.train_test_split(y, train_size=0.55, random_state=0)
    assert len(a) == 5 and len(b) == 5
    a1, _ = D.train_test_split(y, random_state=1)
    a2, _ = D.train_test_split(y, random_state=1)
    assert a1.tolist() == a2.tolist()
    with pytest.raises(ValueError, match="inconsistent numbers of samples: 10 and 3"):
        D.train_test_split(X, y[:3])
    with pytest.raises(ValueError, match="test_size=1.5"):
        D.train_test_split(y, test_size=1.5)
    with pytest.raises(ValueError, match="exceed"):
        D.train_test_split(y, test_size=6, train_size=6)


def test_train_test_split_stratified():
    X, y = D.load_iris(return_X_y=True)
    Xtr, Xte, ytr, yte = D.train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(yte.numpy()).tolist() == [10, 10, 10]
    assert np.bincount(ytr.numpy()).tolist() == [40, 40, 40]
    assert Xtr.shape == (120, 4)
