"""Loading and checking a user's own test set (issue 11): class indices of image folders,
no implicit /255, official IDX names and splits, stratified samples, string labels,
RGB/grayscale conversion and logits. Data are generated here: PNG folders written with
PIL, IDX files with a struct-based writer of the format, ``.npz`` files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from fracdash.errors import UserDataError
from fracdash.inputs import data as userdata


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and ";" in message, message
    return message


def dense_classifier(keras, shape, k, *, rescale=None, softmax=True):
    """Flatten -> Dense(k) (-> Softmax), with ``Rescaling(rescale)`` first if given."""
    from keras import layers

    stack = [keras.Input(shape)]
    if rescale is not None:
        stack.append(layers.Rescaling(rescale))
    stack += [layers.Flatten(), layers.Dense(k, name="dense")]
    if softmax:
        stack.append(layers.Softmax())
    return keras.Sequential(stack)


@pytest.fixture(scope="session")
def models(keras):
    """Small classifiers by name. ``own_rescaling`` and ``unit_range`` call a 4x4 image
    bright (class 1) when its mean exceeds 0.5 on [0, 1]: the first takes 0..255 (its own
    Rescaling(1/255)), the second [0, 1]. The others are untrained."""
    keras.utils.set_random_seed(1)
    shapes = {"gray3": ((4, 4, 1), 3), "rgb3": ((4, 4, 3), 3), "gray4": ((4, 4, 1), 4)}
    built = {name: dense_classifier(keras, s, k) for name, (s, k) in shapes.items()}
    built["gray10"] = dense_classifier(keras, (4, 4, 1), 10)
    built["logits3"] = dense_classifier(keras, (4,), 3, softmax=False)
    kernel = np.stack([np.full(16, -1 / 16), np.full(16, 1 / 16)], axis=1) * 20
    for kind, rescale in (("own_rescaling", 1 / 255), ("unit_range", None)):
        built[kind] = dense_classifier(keras, (4, 4, 1), 2, rescale=rescale)
        built[kind].get_layer("dense").set_weights([kernel, np.array([10.0, -10.0])])
    return built


def image_folder(root, classes, size=(4, 4), mode="L"):
    """One subfolder per class; image i of class c is uniform with value 80 * c + i,
    so every decoded image tells its folder (c < 4, i < 80). ``classes``: {folder name: count}."""
    from PIL import Image

    for c, (name, count) in enumerate(classes.items()):
        (root / name).mkdir(parents=True)
        for i in range(count):
            value = 80 * c + i
            shape = (*size, 3) if mode == "RGB" else size
            Image.fromarray(np.full(shape, value, np.uint8), mode=mode).save(
                root / name / f"{i:03d}.png"
            )
    return root


def folder_of(x, classes) -> list[str]:
    """The folder each decoded sample came from (by its uniform value)."""
    names = list(classes)
    return [names[int(v) // 80] for v in x.reshape(len(x), -1)[:, 0]]


def write_idx(path, array):
    """IDX as its specification has it: two zero bytes, type 0x08 (ubyte), the number
    of dimensions, each dimension as a big-endian uint32, then the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    raw += b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes(order="C")
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)


def write_mnist_like(folder, suffix=".gz"):
    """The four official file names: train (6 samples) and t10k (4 samples)."""
    folder.mkdir(parents=True, exist_ok=True)
    splits = {}
    for prefix, n, base in (("train", 6, 0), ("t10k", 4, 100)):
        x = (base + np.arange(n * 9).reshape(n, 3, 3)).astype(np.uint8)
        y = np.arange(n, dtype=np.uint8) % 3
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)
        splits[prefix] = (x, y)
    return splits


# ---------------------------------------------------------------- 1. folder classes


CLASSES = ["dog", "cat", "bird", "ant"]  # the model's index order, not alphabetical


def test_subfolders_get_the_index_of_their_class_name(tmp_path):
    classes = {"cat": 2, "ant": 3}
    image_folder(tmp_path, classes)
    notes = []
    x, y, names = userdata.load_data(tmp_path, class_names=CLASSES, warn=notes.append)
    assert names == CLASSES and names.given
    origin = folder_of(x, classes)
    np.testing.assert_array_equal(y, [CLASSES.index(f) for f in origin])
    assert sorted(origin) == ["ant"] * 3 + ["cat"] * 2
    assert not any("sorted folder name" in n for n in notes)


def test_a_subfolder_that_is_no_class_name_is_refused(tmp_path):
    image_folder(tmp_path, {"cat": 1, "zebra": 1, "yak": 1})
    with pytest.raises(UserDataError) as err:
        userdata.load_data(tmp_path, class_names=CLASSES)
    message = one_line(err)
    assert "'yak', 'zebra'" in message and "'dog', 'cat', 'bird', 'ant'" in message


def test_without_class_names_sorted_folders_are_numbered_with_a_warning(tmp_path):
    image_folder(tmp_path, {"zebra": 1, "ant": 2})
    notes = []
    x, y, names = userdata.load_data(tmp_path, warn=notes.append)
    assert names == ["ant", "zebra"] and not names.given
    np.testing.assert_array_equal(y, [0, 0, 1])
    assert notes == [
        "classes numbered by sorted folder name: 0=ant, 1=zebra; pass --class-names to map "
        "them to the model's indices"
    ]
    image_folder(tmp_path / "n", {"2": 1, "10": 1})  # numbers sort as numbers
    x, y, names = userdata.load_data(tmp_path / "n", warn=lambda _: None)
    assert names == ["2", "10"] and folder_of(x, {"2": 1, "10": 1}) == ["2", "10"]


def test_classes_absent_from_a_folder_are_fine_and_named(tmp_path, models):
    image_folder(tmp_path, {"cat": 2, "ant": 2})
    x, y, names = userdata.load_data(tmp_path, class_names=CLASSES, warn=lambda _: None)
    notes = []
    x, y, names = userdata.check_data(models["gray4"], x, y, names, warn=notes.append)
    assert names == CLASSES and set(y) == {1, 3}
    assert notes == [
        "the data hold 2 of the model's 4 classes; absent: 0=dog, 2=bird "
        "(the legend still lists all)"
    ]


def test_fewer_folders_than_classes_without_names_asks_for_class_names(tmp_path, models):
    image_folder(tmp_path, {"a": 1, "b": 1, "c": 1})
    x, y, names = userdata.load_data(tmp_path, warn=lambda _: None)
    with pytest.raises(UserDataError) as err:
        userdata.check_data(models["gray10"], x, y, names)
    message = one_line(err)
    assert message.startswith("the folders name 3 classes but the model has 10; ")
    assert "pass --class-names with the model's 10 class names in index order" in message
    assert "given" not in message


# ---------------------------------------------------------------- 2. scaling


def accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(np.asarray(model(x)), axis=1) == y))


def test_uint8_is_passed_as_it_is_unless_scale_is_given(models):
    y = np.arange(40) % 2  # dark images (0..69) are class 0, bright ones (180..255) class 1
    low, high = np.where(y == 1, 180, 0)[:, None, None], np.where(y == 1, 256, 70)[:, None, None]
    x = np.random.default_rng(0).integers(low, high, (40, 4, 4)).astype(np.uint8)
    model = models["own_rescaling"]
    got_x, got_y, _ = userdata.check_data(model, x, y)
    assert got_x.dtype == np.float32 and got_x.max() == x.max() > 200
    np.testing.assert_array_equal(got_x[..., 0], x)
    assert accuracy(model, got_x, got_y) == 1.0
    model = models["unit_range"]  # trained on [0, 1]: scale=1/255 gives it that
    got_x, got_y, _ = userdata.check_data(model, x, y, scale=1 / 255)
    np.testing.assert_allclose(got_x[..., 0], x / 255, rtol=1e-6)
    assert accuracy(model, got_x, got_y) == 1.0
    as_is, _, _ = userdata.check_data(model, x, y)  # without it: values unchanged
    assert accuracy(model, as_is, y) == 0.5
    text_x, _, _ = userdata.check_data(model, x, y, scale="1/255")
    np.testing.assert_array_equal(text_x, got_x)


@pytest.mark.parametrize(
    "text, value", [("1/255", 1 / 255), (" 1 / 255 ", 1 / 255), ("0.00392", 0.00392), ("255", 255)]
)
def test_parse_scale(text, value):
    assert userdata.parse_scale(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "0", "-1", "abc", "1/0", "inf", "nan", "1/2/3", "-1/255"])
def test_parse_scale_refuses(text):
    with pytest.raises(UserDataError) as err:
        userdata.parse_scale(text)
    assert "--scale 1/255" in one_line(err)


# ---------------------------------------------------------------- 3. IDX names and splits


def test_official_idx_names_pair(tmp_path):
    splits = write_mnist_like(tmp_path)
    x, y, names = userdata.load_data(tmp_path / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(x, splits["t10k"][0])
    np.testing.assert_array_equal(y, splits["t10k"][1])
    assert names is None
    write_mnist_like(tmp_path, "")  # unpacked copies beside the archives count once
    x, _, _ = userdata.load_data(tmp_path, warn=lambda _: None)
    np.testing.assert_array_equal(x, splits["t10k"][0])


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_folder_of_the_official_four_takes_a_split(tmp_path, suffix):
    splits = write_mnist_like(tmp_path, suffix)
    notes = []
    x, y, _ = userdata.load_data(tmp_path, warn=notes.append)
    np.testing.assert_array_equal(x, splits["t10k"][0])
    np.testing.assert_array_equal(y, splits["t10k"][1])
    assert len(notes) == 1 and "using the test split (t10k-images-idx3-ubyte" in notes[0]
    assert "--split train" in notes[0]
    x, y, _ = userdata.load_data(tmp_path, split="train", warn=notes.append)
    np.testing.assert_array_equal(x, splits["train"][0])
    np.testing.assert_array_equal(y, splits["train"][1])


def test_other_idx_combinations_and_splits_are_refused(tmp_path):
    write_mnist_like(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(UserDataError) as err:
        userdata.load_data(tmp_path)
    message = one_line(err)
    assert "2 *images* and 1 *labels* files" in message and "exactly one of each" in message
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)), y=np.arange(4) % 2)
    with pytest.raises(UserDataError, match="no train split"):
        userdata.load_data(tmp_path / "d.npz", split="train")


# ---------------------------------------------------------------- 4. samples


@pytest.mark.parametrize("counts, n", [((500, 300, 150, 50), 100), ((400, 350, 250), 37)])
def test_samples_are_a_seeded_stratified_sample(tmp_path, counts, n):
    y = np.repeat(np.arange(len(counts)), counts)  # sorted by class
    x = np.arange(len(y), dtype=np.float32)[:, None]  # x tells the original index
    np.savez(tmp_path / "d.npz", x=x, y=y)
    notes = []
    got_x, got_y, _ = userdata.load_data(tmp_path / "d.npz", n, warn=notes.append)
    assert len(got_x) == n
    proportional = n * np.asarray(counts) / sum(counts)
    drawn = np.bincount(got_y, minlength=len(counts))
    assert np.all(np.abs(drawn - proportional) <= 1), (drawn, proportional)
    index = got_x[:, 0].astype(int)
    assert np.all(np.diff(index) > 0)  # the original order is kept
    np.testing.assert_array_equal(y[index], got_y)
    total = sum(counts)
    assert notes == [
        f"using a stratified sample of {n} of {total} samples (seed 0); pass --first for the "
        f"first {n}"
    ]
    again, _, _ = userdata.load_data(tmp_path / "d.npz", n, warn=lambda _: None)
    np.testing.assert_array_equal(again, got_x)
    first, first_y, _ = userdata.load_data(tmp_path / "d.npz", n, first=True, warn=notes.append)
    np.testing.assert_array_equal(first, x[:n])
    np.testing.assert_array_equal(first_y, y[:n])
    assert notes[-1] == f"using the first {n} of {total} samples (--first)"


def test_every_class_present_is_drawn_once_at_least():
    y = np.repeat([0, 1, 2], [97, 2, 1])
    keep = userdata.stratified_indices(y, 10)
    assert len(keep) == 10 and set(y[keep]) == {0, 1, 2}
    other = userdata.stratified_indices(y, 10, seed=1)
    assert len(other) == 10 and not np.array_equal(keep, other)


def test_an_image_folder_is_sampled_before_decoding(tmp_path, monkeypatch):
    import PIL.Image

    classes = {"a": 30, "b": 30, "c": 30}
    image_folder(tmp_path, classes)
    opened = []
    real_open = PIL.Image.open
    monkeypatch.setattr(PIL.Image, "open", lambda f, *a, **k: opened.append(f) or real_open(f))
    notes = []
    x, y, _ = userdata.load_data(tmp_path, 9, warn=notes.append)
    assert len(opened) == 9 and len(x) == 9
    np.testing.assert_array_equal(np.bincount(y), [3, 3, 3])
    assert folder_of(x, classes) == [list(classes)[k] for k in y]
    assert "using a stratified sample of 9 of 90 samples (seed 0)" in notes[-1]


# ---------------------------------------------------------------- 5. string labels


def test_string_labels_are_mapped_through_class_names(tmp_path, models):
    y = np.array(["cat", "dog", "bird", "cat", "dog"])
    names = np.array(["dog", "cat", "bird"])
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 4, 4), np.float32), y=y, class_names=names)
    x, got_y, got_names = userdata.load_data(tmp_path / "d.npz")
    np.testing.assert_array_equal(got_y, [1, 0, 2, 1, 0])
    x, got_y, got_names = userdata.check_data(models["gray3"], x, got_y, got_names)
    assert got_names == ["dog", "cat", "bird"]
    y = np.array([b"bird", b"dog", b"bird"])  # bytes, as numpy stores 'S' arrays
    np.savez(tmp_path / "e.npz", x=np.zeros((3, 4, 4), np.float32), y=y)
    _, got_y, _ = userdata.load_data(tmp_path / "e.npz", class_names=["dog", "cat", "bird"])
    np.testing.assert_array_equal(got_y, [2, 0, 2])
    # The Python API passes them to check_data directly.
    x = np.zeros((3, 4, 4), np.float32)
    _, got_y, _ = userdata.check_data(
        models["gray3"], x, ["cat", "cat", "dog"], ["dog", "cat", "bird"]
    )
    np.testing.assert_array_equal(got_y, [1, 1, 0])


def test_unknown_string_labels_are_named(tmp_path):
    y = np.array(["dog", "emu", "fox", "gnu", "hen"])
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 2)), y=y)
    with pytest.raises(UserDataError) as err:
        userdata.load_data(tmp_path / "d.npz", class_names=["dog", "cat"])
    message = one_line(err)
    assert "4 labels that are not class names ('emu', 'fox', 'gnu', …)" in message
    assert "'hen'" not in message
    with pytest.raises(UserDataError) as err:
        userdata.load_data(tmp_path / "d.npz")
    assert "no class names are given; pass --class-names" in one_line(err)


# ---------------------------------------------------------------- 6. channels


def test_rgb_images_for_a_grayscale_model_become_luma(tmp_path, models):
    from PIL import Image

    for k, name in enumerate(["a", "b", "c"]):
        (tmp_path / name).mkdir()
        pixels = np.zeros((4, 4, 3), np.uint8)
        pixels[..., :] = (10 + k, 200, 30 * k)
        Image.fromarray(pixels, mode="RGB").save(tmp_path / name / "0.png")
    x, y, names = userdata.load_data(tmp_path, warn=lambda _: None)
    assert x.shape == (3, 4, 4, 3)
    notes = []
    got_x, _, _ = userdata.check_data(models["gray3"], x, y, names, warn=notes.append)
    assert got_x.shape == (3, 4, 4, 1)
    for k in range(3):
        luma = 0.299 * (10 + k) + 0.587 * 200 + 0.114 * (30 * k)
        assert got_x[k, 0, 0, 0] == round(luma)  # uint8 values, as float32
    assert any("RGB images" in n and "ITU-R 601 luma" in n for n in notes)


def test_grayscale_for_an_rgb_model_is_repeated(models):
    x = np.arange(3 * 16, dtype=np.uint8).reshape(3, 4, 4)
    notes = []
    got_x, _, _ = userdata.check_data(models["rgb3"], x, [0, 1, 2], warn=notes.append)
    assert got_x.shape == (3, 4, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(got_x[..., c], x)
    assert any("grayscale images, the model takes RGB" in n for n in notes)


def test_images_of_another_size_ask_for_a_resize(tmp_path, models):
    image_folder(tmp_path, {"a": 1, "b": 1, "c": 1}, size=(5, 6))
    x, y, names = userdata.load_data(tmp_path, warn=lambda _: None)
    with pytest.raises(UserDataError) as err:
        userdata.check_data(models["gray3"], x, y, names)
    message = one_line(err)
    assert message.endswith("; resize the images to 4x4 pixels (height x width)")
    assert "fix x" not in message


def test_a_failed_load_prints_no_warning(tmp_path):
    image_folder(tmp_path / "d", {"a": 1})
    image_folder(tmp_path / "e", {"b": 1}, size=(5, 5))
    (tmp_path / "e" / "b").rename(tmp_path / "d" / "b")
    notes = []
    with pytest.raises(UserDataError, match="resize all images alike"):
        userdata.load_data(tmp_path / "d", warn=notes.append)
    assert notes == []
