"""Load MNIST from the official IDX files, a Keras ``mnist.npz`` or a download, and verify it.

``load_mnist`` returns what ``keras.datasets.mnist.load_data()`` returns, checked
byte for byte against the MD5s published with MNIST. It looks in ``data_dir``,
then ``$MNIST_DATA_DIR``, then the Keras cache, and downloads only as a last resort.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

#: The four official files, by the key ``keras.datasets.mnist`` uses for each array.
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

#: MD5 of each decompressed official file, as published with MNIST.
OFFICIAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

Split = tuple[np.ndarray, np.ndarray]


def parse_idx(content: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an uncompressed IDX file of unsigned bytes.

    Args:
        content: the file's bytes.
        name: what to call the file in error messages.

    Returns:
        A writable ``uint8`` array of the shape the header gives.

    Raises:
        ValueError: naming ``name``, if the content is empty, truncated, not IDX
            of unsigned bytes, or longer than its header announces.

    >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    array([7, 2, 1], dtype=uint8)
    """
    if not content:
        raise ValueError(f"{name}: the file is empty")
    if len(content) < 4:
        raise ValueError(f"{name}: truncated, {len(content)} bytes is shorter than the IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or dtype_code != 0x08 or ndim == 0:
        raise ValueError(
            f"{name}: wrong magic number 0x{content[:4].hex()}, expected 0x0000080N "
            "(an IDX file of unsigned bytes with N dimensions)"
        )
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(f"{name}: truncated inside its header ({len(content)} of {header_size} bytes)")
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    expected = header_size + int(np.prod(shape, dtype=np.int64))
    if len(content) != expected:
        problem = "truncated" if len(content) < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: {problem}: the header announces shape {shape}, "
            f"{expected:,} bytes in all, but the file holds {len(content):,}"
        )
    return np.frombuffer(bytearray(content[header_size:]), dtype=np.uint8).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a ``uint8`` array as the bytes of an uncompressed IDX file, the inverse of ``parse_idx``.

    >>> idx_bytes(np.array([7, 2, 1], dtype=np.uint8)).hex()
    '0000080100000003070201'
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(f">HBB{array.ndim}I", 0, 0x08, array.ndim, *array.shape)
    return header + array.tobytes()


def _read_file(path: Path) -> bytes:
    """Return a file's content, decompressed if it is gzip, with errors that name it."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise OSError(f"{path}: cannot be read ({error.strerror or error})") from error
    if not raw[:2] == b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: not a valid gzip file, it is truncated or corrupt ({error})") from error


def read_idx(path: str | os.PathLike, expected_md5: str | None = None) -> np.ndarray:
    """Read one IDX file, gzip-compressed or not, and optionally check its MD5.

    Copy along: ``parse_idx``, ``_read_file``.

    Args:
        path: the file.
        expected_md5: the MD5 of its decompressed content, or None to skip the check.

    Returns:
        The ``uint8`` array.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: naming the file, if it is corrupt, truncated, not IDX or fails the checksum.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4]))
    >>> read_idx(path)
    array([5, 0, 4], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    content = _read_file(path)
    array = parse_idx(content, name=str(path))
    if expected_md5 is not None:
        actual = hashlib.md5(content, usedforsecurity=False).hexdigest()
        if actual != expected_md5:
            raise ValueError(
                f"{path}: checksum mismatch, the decompressed content has MD5 {actual}, "
                f"the official file has {expected_md5}; the file is corrupt or not the official MNIST"
            )
    return array


def _check_split(images: np.ndarray, labels: np.ndarray, images_name: str, labels_name: str) -> None:
    """Raise ValueError unless images are (n, 28, 28), labels (n,) and labels are digits."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{images_name}: expected images of shape (n, 28, 28), found {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_name}: expected labels of shape (n,), found {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"{images_name} holds {len(images):,} images but {labels_name} holds {len(labels):,} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_name}: labels must be digits 0-9, found {labels.max()}")


def _find_idx(folder: Path, name: str) -> Path | None:
    """Return the uncompressed or gzip file for an IDX name in a folder, or None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx_folder(folder: str | os.PathLike, verify: bool = True) -> tuple[Split, Split]:
    """Load the four official IDX files (``.gz`` or not) from a folder.

    Copy along: ``read_idx``, ``_find_idx``, ``_check_split``.

    Args:
        folder: the folder.
        verify: check each file against the official MD5.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.

    Raises:
        FileNotFoundError: naming the missing files.
        ValueError: naming the bad file.

    >>> load_idx_folder("/no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST data folder /no/such/folder is missing train-images-idx3-ubyte[.gz], ...
    """
    folder = Path(folder)
    paths = {key: _find_idx(folder, name) for key, name in IDX_NAMES.items()}
    missing = [f"{IDX_NAMES[key]}[.gz]" for key, path in paths.items() if path is None]
    if missing:
        raise FileNotFoundError(f"MNIST data folder {folder} is missing {', '.join(missing)}")
    arrays = {
        key: read_idx(path, OFFICIAL_MD5[IDX_NAMES[key]] if verify else None) for key, path in paths.items()
    }
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], str(paths[f"x_{split}"]), str(paths[f"y_{split}"]))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_npz(path: str | os.PathLike, verify: bool = True) -> tuple[Split, Split]:
    """Load a Keras-format ``mnist.npz``, and optionally check it against the official MD5s.

    The check rebuilds each IDX file from its array, so it proves the npz holds the official data.

    Copy along: ``idx_bytes``, ``_check_split``.

    Args:
        path: the file.
        verify: check the arrays against the official MD5s.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: naming the file, if it is not an npz, lacks an array, holds a bad one, or fails the checksum.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "mnist.npz"
    >>> images, labels = np.zeros((3, 28, 28), np.uint8), np.array([5, 0, 4], np.uint8)
    >>> np.savez(path, x_train=images, y_train=labels, x_test=images, y_test=labels)
    >>> load_npz(path, verify=False)[0][1]
    array([5, 0, 4], dtype=uint8)
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"{path}: unreadable npz file ({error})") from error
    except ValueError as error:  # NumPy found text or a pickle
        raise ValueError(f"{path}: not an npz file ({error})") from error
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an npz file, it holds a single array")
    with npz:
        missing = [key for key in IDX_NAMES if key not in npz.files]
        if missing:
            raise ValueError(f"{path}: not an MNIST npz, it lacks the arrays {', '.join(missing)}")
        arrays = {}
        for key in IDX_NAMES:
            try:
                arrays[key] = npz[key]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise ValueError(f"{path}: array {key} cannot be read ({error})") from error
    for key, array in arrays.items():
        if array.dtype != np.uint8:
            raise ValueError(f"{path}: array {key} has dtype {array.dtype}, expected uint8")
        if verify:
            actual = hashlib.md5(idx_bytes(array), usedforsecurity=False).hexdigest()
            if actual != OFFICIAL_MD5[IDX_NAMES[key]]:
                raise ValueError(
                    f"{path}: checksum mismatch in array {key}: it does not hold the official "
                    f"{IDX_NAMES[key]} (MD5 {actual})"
                )
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], f"{path}[x_{split}]", f"{path}[y_{split}]")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_folder(folder: str | os.PathLike, verify: bool = True) -> tuple[Split, Split]:
    """Load MNIST from a folder holding the four IDX files or a Keras ``mnist.npz``.

    Copy along: ``load_idx_folder``, ``load_npz``, ``_find_idx``.

    Raises:
        FileNotFoundError: if the folder does not exist or holds neither form.

    >>> load_folder("/no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST data folder /no/such/folder does not exist
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST data folder {folder} does not exist")
    has_idx = any(_find_idx(folder, name) for name in IDX_NAMES.values())
    if not has_idx and (folder / "mnist.npz").is_file():
        return load_npz(folder / "mnist.npz", verify)
    return load_idx_folder(folder, verify)


def keras_cache_path() -> Path:
    """Return where Keras caches ``mnist.npz``: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``.

    >>> keras_cache_path().name
    'mnist.npz'
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def download_mnist(
    target: str | os.PathLike | None = None, origin: str = KERAS_URL, file_hash: str = KERAS_SHA256
) -> Path:
    """Download ``mnist.npz`` with ``keras.utils.get_file``, atomically.

    The file lands in a temporary folder beside ``target`` and is renamed into
    place only once its hash matched: a failed download leaves nothing behind.

    Copy along: ``keras_cache_path``.

    Args:
        target: where to put it; the Keras cache by default.
        origin: the URL.
        file_hash: the file's SHA-256.

    Returns:
        The target path.

    Raises:
        ConnectionError: if the download fails.
        ValueError: if the hash does not match.

    >>> download_mnist("/tmp/mnist.npz", origin="http://127.0.0.1:9/mnist.npz")
    Traceback (most recent call last):
    ...
    ConnectionError: downloading http://127.0.0.1:9/mnist.npz failed: ...
    """
    import keras  # here, not at the top: loading from files should not have to import TensorFlow

    target = Path(target) if target is not None else keras_cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mnist-download-", dir=target.parent))
    try:
        try:
            downloaded = keras.utils.get_file(
                fname=target.name, origin=origin, file_hash=file_hash, cache_dir=str(staging), cache_subdir="."
            )
        except ValueError as error:
            raise ValueError(f"download from {origin} rejected: {error}") from error
        except Exception as error:  # get_file raises a bare Exception for URL failures
            raise ConnectionError(f"downloading {origin} failed: {error}") from error
        os.replace(downloaded, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    verify: bool = True,
    origin: str = KERAS_URL,
    file_hash: str = KERAS_SHA256,
) -> tuple[Split, Split]:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``, like ``keras.datasets.mnist.load_data()``.

    Copy along: ``load_folder``, ``load_npz``, ``download_mnist``, ``keras_cache_path``.

    Args:
        data_dir: a folder of the four IDX files (``.gz`` or not) or ``mnist.npz``;
            by default ``$MNIST_DATA_DIR``, then the Keras cache, then a download.
        verify: check the data against the official MD5s.
        origin: the download's URL.
        file_hash: the download's SHA-256.

    Returns:
        uint8 arrays of shape (60000, 28, 28), (60000,), (10000, 28, 28) and (10000,).

    Raises:
        FileNotFoundError: if no source has the data; the message says how to provide it.
        ValueError: naming the file, if the data is bad.

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()
    >>> x_train.shape, y_train[:10]
    ((60000, 28, 28), array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], dtype=uint8))
    """
    if data_dir is not None:
        return load_folder(data_dir, verify)
    if os.environ.get("MNIST_DATA_DIR"):
        return load_folder(os.environ["MNIST_DATA_DIR"], verify)
    cache = keras_cache_path()
    if cache.is_file():
        return load_npz(cache, verify)
    try:
        return load_npz(download_mnist(cache, origin, file_hash), verify)
    except ConnectionError as error:
        raise FileNotFoundError(
            f"No MNIST data found and the download failed ({error}). Provide the data in one of "
            "these ways: pass load_mnist(data_dir=...) a folder holding the four official IDX files "
            "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            "t10k-labels-idx1-ubyte.gz) or mnist.npz; or set the environment variable MNIST_DATA_DIR "
            f"to such a folder; or copy Keras' mnist.npz to {cache}."
        ) from error
