"""A user's model file, checked and loaded: Keras (safe mode) or ONNX.

:mod:`fracdash.inputs.data` re-exports the public names. Pickled PyTorch files are refused
with the export call to run instead (loading one runs code); a PyTorch module is taken
by the Python API only (:mod:`fracdash.sources.torch_source`).
"""

from __future__ import annotations

from pathlib import Path

from fracdash.errors import UserDataError
from fracdash.models.loading import RESAVE  # loading.py imports Keras only when it loads

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", ".onnx")
#: Pickled PyTorch files: loading one runs code, so they are refused (export to ONNX).
TORCH_SUFFIXES = (".pt", ".pth")


def check_model_file(path) -> Path:
    """Check a model file without importing Keras or onnx (fast: the command line does
    this before TensorFlow's start-up).

    Parameters
    ----------
    path : path-like
        A ``.keras`` archive, a legacy ``.h5``/``.hdf5`` file or an ``.onnx`` model.

    Returns
    -------
    Path
        ``path``, which exists and starts like its format.

    Raises
    ------
    UserDataError
        A missing path, a directory (a SavedModel gets instructions), a pickled PyTorch
        file (``.pt``, ``.pth``: the export call to run instead), another suffix, or a
        file that is not a zip archive (``.keras``), HDF5 (``.h5``) or protobuf starting
        with an ONNX model's first field (``.onnx``).
    """
    path = Path(path)
    if not path.exists():
        raise UserDataError(f"model {path} does not exist; give the path of a .keras or .h5 file")
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise UserDataError(
                f"{path} is a TensorFlow SavedModel, which Keras 3 cannot load as a model "
                "(only as an opaque keras.layers.TFSMLayer, without its layers); load it in "
                "TensorFlow 2.x (tf.keras) and save it with model.save('model.keras')"
            )
        raise UserDataError(f"model {path} is a directory; give a .keras or .h5 file")
    suffix = path.suffix.lower()
    if suffix in TORCH_SUFFIXES:
        from fracdash.sources.torch_source import EXPORT_CALL

        raise UserDataError(
            f"model {path} is a pickled PyTorch file, which runs code when loaded; export "
            f"it to ONNX in Python with {EXPORT_CALL} and pass --model model.onnx"
        )
    if suffix not in MODEL_SUFFIXES:
        raise UserDataError(f"model {path} is not a .keras or .h5 file (nor .onnx); {RESAVE}")
    magic = _head(path, 8)
    if suffix == ".onnx":
        from fracdash.sources.onnx_file import require

        require()
        # An ONNX model is protobuf; its first field, ir_version (1, a varint), is 0x08.
        if magic[:1] != b"\x08":
            raise UserDataError(
                f"model {path} is not an ONNX file (corrupt?); re-export it from its framework"
            )
        return path
    if path.suffix.lower() == ".keras" and magic[:4] != b"PK\x03\x04":
        raise UserDataError(f"model {path} is not a .keras archive (corrupt?); {RESAVE}")
    if path.suffix.lower() != ".keras" and magic != b"\x89HDF\r\n\x1a\n":
        raise UserDataError(f"model {path} is not an HDF5 file (corrupt?); {RESAVE}")
    return path


def load_model(path, output=None):
    """Load a Keras 3 model in safe mode, uncompiled, or an ONNX model, checked.

    Parameters
    ----------
    path : path-like
        A ``.keras`` (or legacy ``.h5``) or ``.onnx`` file; see :func:`check_model_file`.
    output : str or int, optional
        Of a model with several outputs, the classifier's (name, or index from 0).

    Returns
    -------
    keras.Model or fracdash.sources.onnx_source.OnnxSource
        One input and one ``(batch, k >= 2)`` output.

    Raises
    ------
    UserDataError
        A file :func:`check_model_file` refuses, one Keras cannot load (unknown or Lambda
        layers), an ONNX file :mod:`fracdash.sources.onnx_file` refuses, or a model of
        another structure.
    """
    path = check_model_file(path)
    if path.suffix.lower() == ".onnx":
        from fracdash.sources.onnx_source import load_onnx_file

        return load_onnx_file(path, output)
    from fracdash.models.loading import load_keras_file

    return load_keras_file(path, output)


def _head(path: Path, size: int) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as err:
        raise UserDataError(f"cannot read model {path} ({err}); check its permissions") from err
