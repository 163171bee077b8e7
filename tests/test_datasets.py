"""fracdash.datasets: IDX parsing, directory resolution, and the real MNIST / Fashion-MNIST."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from fracdash import datasets
from fracdash.datasets import (
    CLASS_NAMES,
    DATASETS,
    DatasetError,
    find_dataset_dir,
    load_dataset,
    read_idx,
)

# The real files, found by the project's own lookup order ($FRACDASH_DATA, which
# conftest points at ../shared/datasets when it is there, then the system directory),
# resolved once at import, before the autouse fixture below clears the variable.
REAL_DIRS = {name: find_dataset_dir(name) for name in DATASETS}
STEMS = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
SIZES = {"train": 60000, "test": 10000}


def real_dir(name: str) -> Path:
    """The real dataset directory; fails (never skips) when it cannot be found."""
    directory = REAL_DIRS[name]
    if directory is None:
        pytest.fail(
            f"{name} not found: set FRACDASH_DATA to a folder holding {name}/ with the four "
            "official IDX .gz files (../shared/datasets on this workplace)"
        )
    missing = [s for s in STEMS if not (directory / f"{s}.gz").is_file()]
    if missing:
        pytest.fail(f"{name} at {directory} lacks the .gz files {missing}")
    return directory


MNIST_DIR = REAL_DIRS["mnist"]


def link_files(source: Path, target: Path) -> Path:
    """Symlink the four real .gz files of ``source`` into ``target``; returns ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for stem in STEMS:
        (target / f"{stem}.gz").symlink_to(source / f"{stem}.gz")
    return target


def write_idx(path: Path, array: np.ndarray, code: int, compress: bool) -> Path:
    """Independent IDX writer: struct header, big-endian payload."""
    fmt = {0x08: "B", 0x09: "b", 0x0B: ">h", 0x0C: ">i", 0x0D: ">f", 0x0E: ">d"}[code]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = b"".join(struct.pack(fmt, v) for v in array.ravel().tolist())
    data = header + payload
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("FRACDASH_DATA", raising=False)


# --- the real data ----------------------------------------------------------------------


@pytest.mark.parametrize("split", ["test", "train"])
@pytest.mark.parametrize("name", DATASETS)
def test_real_dataset(name, split):
    x, y = load_dataset(name, split, data_dir=real_dir(name))
    n = SIZES[split]
    assert x.shape == (n, 28, 28) and x.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.uint8
    assert set(np.unique(y).tolist()) == set(range(10))
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == n
    lo, hi = (800, 1300) if split == "test" else (5000, 7000)
    assert counts.min() >= lo and counts.max() <= hi, counts
    assert x.max() == 255 and x.min() == 0
    assert 20 < x.mean() < 100  # mostly-black backgrounds with bright strokes
    assert len(np.unique(x[:100].reshape(100, -1), axis=0)) == 100  # no repeated images
    assert len(CLASS_NAMES[name]) == 10


@pytest.mark.parametrize("name", DATASETS)
def test_splits_differ(name):
    x_test, _ = load_dataset(name, "test", data_dir=real_dir(name))
    x_train, _ = load_dataset(name, "train", data_dir=real_dir(name))
    assert not np.array_equal(x_train[: len(x_test)], x_test)


def test_mnist_and_fashion_differ():
    x_m, _ = load_dataset("mnist", data_dir=real_dir("mnist"))
    x_f, _ = load_dataset("fashion-mnist", data_dir=real_dir("fashion-mnist"))
    assert not np.array_equal(x_m, x_f)


def test_read_idx_matches_struct_parser():
    directory = real_dir("mnist")
    raw = gzip.decompress((directory / "t10k-images-idx3-ubyte.gz").read_bytes())
    zero, code, ndim = struct.unpack_from(">HBB", raw, 0)
    assert (zero, code, ndim) == (0, 0x08, 3)
    count, rows, cols = struct.unpack_from(">III", raw, 4)
    expected = [struct.unpack_from(f"{rows * cols}B", raw, 16 + i * rows * cols) for i in range(3)]
    images = read_idx(directory / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (count, rows, cols)
    for i in range(3):
        assert images[i].ravel().tolist() == list(expected[i])

    raw_labels = gzip.decompress((directory / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert struct.unpack_from(">HBBI", raw_labels, 0) == (0, 0x08, 1, count)
    labels = read_idx(directory / "t10k-labels-idx1-ubyte.gz")
    assert labels[:3].tolist() == list(struct.unpack_from("3B", raw_labels, 8))


# --- synthetic IDX ----------------------------------------------------------------------

CASES = [
    (0x08, np.uint8, (4, 5, 3)),
    (0x09, np.int8, (7, 2)),
    (0x0B, np.int16, (3, 4)),
    (0x0C, np.int32, (6, 3)),
    (0x0D, np.float32, (11,)),
    (0x0E, np.float64, (2, 2, 2, 2)),
]


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize(("code", "dtype", "shape"), CASES)
def test_round_trip(tmp_path, code, dtype, shape, compress):
    rng = np.random.default_rng(code)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        array = (rng.standard_normal(shape) * 1e3).astype(dtype)
    path = write_idx(tmp_path / ("a.idx.gz" if compress else "a.idx"), array, code, compress)
    back = read_idx(path)
    assert back.shape == shape
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    back[(0,) * len(shape)] = 0  # writable


def test_round_trip_empty(tmp_path):
    back = read_idx(write_idx(tmp_path / "e.idx", np.zeros((0, 28, 28), np.uint8), 8, False))
    assert back.shape == (0, 28, 28)


def valid_bytes() -> bytes:
    return struct.pack(">BBBBII", 0, 0, 0x0C, 2, 3, 2) + struct.pack(">6i", *range(6))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (valid_bytes()[:-3], "truncated"),
        (valid_bytes()[:10], "truncated"),
        (b"\x00\x00", "truncated"),
        (b"\x01" + valid_bytes()[1:], "magic"),
        (valid_bytes()[:2] + b"\x07" + valid_bytes()[3:], "magic"),
        (struct.pack(">BBBBII", 0, 0, 0x0C, 2, 2, 2) + struct.pack(">6i", *range(6)), "size"),
        (struct.pack(">BBBBII", 0, 0, 0x0C, 2, 4, 2) + struct.pack(">6i", *range(6)), "trunc"),
        (gzip.compress(valid_bytes())[:-10], "cannot read"),
    ],
)
def test_corrupt(tmp_path, data, problem):
    path = tmp_path / "broken-idx"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=re.escape(str(path))) as info:
        read_idx(path)
    assert problem in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_valid_bytes_parse(tmp_path):
    """The corrupt cases above derive from bytes that do parse."""
    path = tmp_path / "ok"
    path.write_bytes(valid_bytes())
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(3, 2))


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="nope"):
        read_idx(tmp_path / "nope")


# --- resolution -------------------------------------------------------------------------


def test_explicit_dir_direct(tmp_path):
    directory = link_files(real_dir("mnist"), tmp_path / "flat")
    assert find_dataset_dir("mnist", directory) == directory
    x, y = load_dataset("mnist", "test", data_dir=directory)
    x_ref, y_ref = load_dataset("mnist", "test", data_dir=MNIST_DIR)
    np.testing.assert_array_equal(x, x_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_explicit_dir_subfolder(tmp_path):
    link_files(real_dir("fashion-mnist"), tmp_path / "fashion-mnist")
    link_files(real_dir("mnist"), tmp_path / "mnist")
    assert find_dataset_dir("fashion-mnist", tmp_path) == tmp_path / "fashion-mnist"
    assert find_dataset_dir("mnist", str(tmp_path)) == tmp_path / "mnist"
    _, y_f = load_dataset("fashion-mnist", data_dir=tmp_path)
    _, y_m = load_dataset("mnist", data_dir=tmp_path)
    assert not np.array_equal(y_f, y_m)


def test_env_var(tmp_path, monkeypatch):
    link_files(real_dir("mnist"), tmp_path / "mnist")
    monkeypatch.setenv("FRACDASH_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "system")
    assert find_dataset_dir("mnist") == tmp_path / "mnist"
    assert load_dataset("mnist")[0].shape == (10000, 28, 28)
    monkeypatch.setenv("FRACDASH_DATA", str(tmp_path / "mnist"))
    assert find_dataset_dir("mnist") == tmp_path / "mnist"


def fake_system_dir(tmp_path, monkeypatch) -> Path:
    """A system data directory of our own (as Debian's dataset-* packages lay it out),
    holding fashion-mnist only: the lookup is tested, not the apt package."""
    system = tmp_path / "system"
    link_files(real_dir("fashion-mnist"), system / "fashion-mnist")
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", system)
    return system


def test_precedence(tmp_path, monkeypatch):
    system = fake_system_dir(tmp_path, monkeypatch)
    explicit = link_files(real_dir("fashion-mnist"), tmp_path / "explicit")
    env = link_files(real_dir("fashion-mnist"), tmp_path / "env")
    monkeypatch.setenv("FRACDASH_DATA", str(env))
    assert find_dataset_dir("fashion-mnist", explicit) == explicit
    assert find_dataset_dir("fashion-mnist") == env
    monkeypatch.setenv("FRACDASH_DATA", str(tmp_path / "empty"))
    assert find_dataset_dir("fashion-mnist") == system / "fashion-mnist"  # falls through
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "nowhere")
    assert find_dataset_dir("fashion-mnist") is None


def test_system_dir_default(tmp_path, monkeypatch):
    system = fake_system_dir(tmp_path, monkeypatch)
    assert find_dataset_dir("fashion-mnist") == system / "fashion-mnist"
    assert find_dataset_dir("mnist") is None  # only what the system directory holds
    x, y = load_dataset("fashion-mnist")
    x_ref, y_ref = load_dataset("fashion-mnist", data_dir=real_dir("fashion-mnist"))
    np.testing.assert_array_equal(x, x_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_gz_preferred_and_raw_accepted(tmp_path):
    source = real_dir("mnist")
    both = link_files(source, tmp_path / "both")
    raw_only = tmp_path / "raw"
    raw_only.mkdir()
    for stem in STEMS:
        (both / stem).write_bytes(b"garbage")
        if stem.startswith("t10k"):
            (raw_only / stem).write_bytes(gzip.decompress((source / f"{stem}.gz").read_bytes()))
        else:
            (raw_only / f"{stem}.gz").symlink_to(source / f"{stem}.gz")
    x_ref, y_ref = load_dataset("mnist", data_dir=source)
    for directory in (both, raw_only):
        x, y = load_dataset("mnist", data_dir=directory)
        np.testing.assert_array_equal(x, x_ref)
        np.testing.assert_array_equal(y, y_ref)


@pytest.mark.parametrize("keep", [0, 3])
def test_explicit_dir_without_files(tmp_path, keep):
    directory = tmp_path / "data"
    directory.mkdir()
    for stem in STEMS[:keep]:
        (directory / f"{stem}.gz").symlink_to(MNIST_DIR / f"{stem}.gz")
    with pytest.raises(DatasetError, match=re.escape(str(directory))) as info:
        find_dataset_dir("mnist", directory)
    assert all(stem in str(info.value) for stem in STEMS)
    with pytest.raises(DatasetError, match=re.escape(str(directory))):
        load_dataset("mnist", data_dir=directory)


def test_unknown_name_and_split():
    with pytest.raises(DatasetError, match="mnist.*fashion-mnist"):
        load_dataset("cifar10")
    with pytest.raises(DatasetError, match="cifar10"):
        find_dataset_dir("cifar10")
    with pytest.raises(DatasetError, match="train.*test"):
        load_dataset("mnist", "validation", data_dir=MNIST_DIR)


def test_inconsistent_files(tmp_path):
    directory = link_files(real_dir("mnist"), tmp_path / "bad")
    labels = directory / "t10k-labels-idx1-ubyte.gz"
    labels.unlink()
    write_idx(labels, np.zeros(9999, np.uint8), 0x08, True)
    with pytest.raises(DatasetError, match="10000 images"):
        load_dataset("mnist", data_dir=directory)
    labels.unlink()
    write_idx(labels, np.full(10000, 10, np.uint8), 0x08, True)
    with pytest.raises(DatasetError, match="0..9"):
        load_dataset("mnist", data_dir=directory)
    images = directory / "t10k-images-idx3-ubyte.gz"
    images.unlink()
    write_idx(images, np.zeros((10000, 784), np.uint8), 0x08, True)
    with pytest.raises(DatasetError, match="28, 28"):
        load_dataset("mnist", data_dir=directory)


# --- Keras fallback (faked: no network in tests) ------------------------------------------


def fake_origin(monkeypatch, files: dict[str, bytes] | Exception):
    """Serve ``files`` (URL tail -> bytes) in place of Keras's download origin."""
    import io
    import urllib.request

    fetched = []

    def urlopen(url, timeout=None):
        fetched.append(url)
        if isinstance(files, Exception):
            raise files
        return io.BytesIO(files[url.removeprefix(datasets.KERAS_ORIGIN)])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return fetched


def test_download_fallback_fills_and_reads_keras_cache(tmp_path, monkeypatch):
    import io

    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "system")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    buffer = io.BytesIO()
    np.savez(buffer, x_train=np.ones((5, 28, 28), np.uint8), y_train=np.arange(5, dtype=np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.array([3, 4], np.uint8))  # fmt: skip
    npz = buffer.getvalue()
    fashion = {}
    parts = (("t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8)),
             ("t10k-labels-idx1-ubyte", np.array([9, 0, 1], np.uint8)))  # fmt: skip
    for stem, array in parts:
        written = write_idx(tmp_path / f"{stem}.gz", array, 0x08, compress=True)
        fashion[f"fashion-mnist/{stem}.gz"] = written.read_bytes()
    monkeypatch.setattr(datasets, "MNIST_NPZ_SHA256", __import__("hashlib").sha256(npz).hexdigest())
    fetched = fake_origin(monkeypatch, {"mnist.npz": npz, **fashion})
    x, y = load_dataset("mnist", "train")
    assert x.shape == (5, 28, 28) and y.tolist() == [0, 1, 2, 3, 4]
    x, y = load_dataset("fashion-mnist", "test")
    assert x.shape == (3, 28, 28) and y.tolist() == [9, 0, 1]
    assert len(fetched) == 3
    x, y = load_dataset("mnist", "test")  # from the cache now: nothing fetched
    assert y.tolist() == [3, 4] and len(fetched) == 3
    assert (tmp_path / "keras" / "datasets" / "mnist.npz").read_bytes() == npz


def test_download_refuses_a_file_with_the_wrong_checksum(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "system")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    fake_origin(monkeypatch, {"mnist.npz": b"not the real file"})
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_dataset("mnist")
    assert not (tmp_path / "keras" / "datasets" / "mnist.npz").exists()


def test_download_fallback_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    fake_origin(monkeypatch, OSError("network unreachable"))
    with pytest.raises(DatasetError) as info:
        load_dataset("fashion-mnist")
    message = str(info.value)
    for needle in (
        "FRACDASH_DATA",
        str(tmp_path / "fashion-mnist"),
        "network unreachable",
        "apt-get install dataset-fashion-mnist",
    ):
        assert needle in message
