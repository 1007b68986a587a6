"""Load MNIST or Fashion-MNIST from the official IDX files, Keras' own files or a download, and verify them.

``load_mnist`` returns what ``keras.datasets.mnist.load_data()`` returns, and ``load_fashion_mnist``
what ``keras.datasets.fashion_mnist.load_data()`` returns, each checked byte for byte against the
MD5s published with the dataset. Both take one code path, ``load_dataset``, which looks in
``data_dir``, then the dataset's environment variable, then the Keras cache, and downloads only
as a last resort. A ``Source`` holds what differs between the two datasets.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
#: Where ``keras.datasets.fashion_mnist`` downloads its four ``.gz`` files from (it checks no hash).
FASHION_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: The four official files, by the key ``keras.datasets.mnist`` uses for each array (Fashion-MNIST's are named alike).
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

#: MD5 of each decompressed official file of Fashion-MNIST (Zalando Research, 2017).
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}


@dataclass(frozen=True)
class Source:
    """What differs between two datasets in MNIST's format: names, checksums, and Keras' files.

    Attributes:
        name: the dataset's name, for messages.
        env_var: the environment variable that may name a folder of its files.
        md5: the MD5 of each decompressed official IDX file, by name.
        keras_cache: what Keras keeps under ``$KERAS_HOME/datasets``: an ``.npz`` file,
            or a folder of the four ``.gz`` files.
        origin: the npz's URL, or the URL the four ``.gz`` file names are appended to.
        file_hash: the npz download's SHA-256 (the ``.gz`` files are checked by their content's MD5).
        class_names: the label of each class, 0 to 9.

    >>> Source("Digits", "DIGITS_DIR", {}, "digits.npz", "https://example.org/digits.npz", None, tuple("0123456789")).is_npz
    True
    """

    name: str
    env_var: str
    md5: dict[str, str]
    keras_cache: str
    origin: str
    file_hash: str | None
    class_names: tuple[str, ...]

    @property
    def is_npz(self) -> bool:
        """Whether Keras keeps this dataset as one ``.npz`` file rather than a folder of ``.gz`` files."""
        return self.keras_cache.endswith(".npz")


MNIST = Source("MNIST", "MNIST_DATA_DIR", OFFICIAL_MD5, "mnist.npz", KERAS_URL, KERAS_SHA256, tuple("0123456789"))
FASHION_MNIST = Source(
    "Fashion-MNIST", "FASHION_MNIST_DATA_DIR", FASHION_MD5, "fashion-mnist", FASHION_URL, None,
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)

Split = tuple[np.ndarray, np.ndarray]


def _parse_idx(content: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an uncompressed IDX file of unsigned bytes.

    Args:
        content: the file's bytes.
        name: what to call the file in error messages.

    Returns:
        A writable ``uint8`` array of the shape the header gives.

    Raises:
        ValueError: naming ``name``, if the content is empty, truncated, not IDX
            of unsigned bytes, or longer than its header announces.

    >>> _parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
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


def _idx_bytes(array: np.ndarray) -> bytes:
    """Encode a ``uint8`` array as the bytes of an uncompressed IDX file, the inverse of ``_parse_idx``.

    >>> _idx_bytes(np.array([7, 2, 1], dtype=np.uint8)).hex()
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


def _read_idx(path: str | os.PathLike, expected_md5: str | None = None) -> np.ndarray:
    """Read one IDX file, gzip-compressed or not, and optionally check its MD5.

    Copy along: ``_parse_idx``, ``_read_file``.

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
    >>> _read_idx(path)
    array([5, 0, 4], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    content = _read_file(path)
    array = _parse_idx(content, name=str(path))
    if expected_md5 is not None:
        actual = hashlib.md5(content, usedforsecurity=False).hexdigest()
        if actual != expected_md5:
            raise ValueError(
                f"{path}: checksum mismatch, the decompressed content has MD5 {actual}, "
                f"the official file has {expected_md5}; the file is corrupt or not the official one"
            )
    return array


def _check_split(images: np.ndarray, labels: np.ndarray, images_name: str, labels_name: str) -> None:
    """Raise ValueError unless images are (n, 28, 28), labels (n,) and labels are classes 0-9."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{images_name}: expected images of shape (n, 28, 28), found {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_name}: expected labels of shape (n,), found {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"{images_name} holds {len(images):,} images but {labels_name} holds {len(labels):,} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_name}: labels must be classes 0-9, found {labels.max()}")


def _find_idx(folder: Path, name: str) -> Path | None:
    """Return the uncompressed or gzip file for an IDX name in a folder, or None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_folder(folder: str | os.PathLike, verify: bool = True, source: Source = MNIST) -> tuple[Split, Split]:
    """Load the four official IDX files (``.gz`` or not) from a folder.

    Copy along: ``_read_idx``, ``_find_idx``, ``_check_split``, ``Source``, ``MNIST``.

    Args:
        folder: the folder.
        verify: check each file against the official MD5.
        source: the dataset, ``MNIST`` or ``FASHION_MNIST``: its checksums and its name in messages.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.

    Raises:
        FileNotFoundError: naming the missing files.
        ValueError: naming the bad file.

    >>> _load_idx_folder("/no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST data folder /no/such/folder is missing train-images-idx3-ubyte[.gz], ...
    """
    folder = Path(folder)
    paths = {key: _find_idx(folder, name) for key, name in IDX_NAMES.items()}
    missing = [f"{IDX_NAMES[key]}[.gz]" for key, path in paths.items() if path is None]
    if missing:
        raise FileNotFoundError(f"{source.name} data folder {folder} is missing {', '.join(missing)}")
    arrays = {
        key: _read_idx(path, source.md5[IDX_NAMES[key]] if verify else None) for key, path in paths.items()
    }
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], str(paths[f"x_{split}"]), str(paths[f"y_{split}"]))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_npz(path: Path, source: Source) -> dict[str, np.ndarray]:
    """Return the four arrays of a Keras-format ``.npz``, by key, with errors that name the file.

    Copy along: ``Source``.

    Raises:
        ValueError: if the file is not an npz, lacks one of the arrays or cannot read one.
    """
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
            raise ValueError(f"{path}: not an {source.name} npz, it lacks the arrays {', '.join(missing)}")
        arrays = {}
        for key in IDX_NAMES:
            try:
                arrays[key] = npz[key]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise ValueError(f"{path}: array {key} cannot be read ({error})") from error
    return arrays


def _check_npz_arrays(path: Path, arrays: dict[str, np.ndarray], verify: bool, source: Source) -> None:
    """Raise ValueError, naming the file, unless every array is ``uint8`` and, if ``verify``, the official data.

    The check rebuilds each IDX file from its array, so it proves the npz holds the official data.

    Copy along: ``_idx_bytes``, ``Source``.
    """
    for key, array in arrays.items():
        if array.dtype != np.uint8:
            raise ValueError(f"{path}: array {key} has dtype {array.dtype}, expected uint8")
        if verify:
            actual = hashlib.md5(_idx_bytes(array), usedforsecurity=False).hexdigest()
            if actual != source.md5[IDX_NAMES[key]]:
                raise ValueError(
                    f"{path}: checksum mismatch in array {key}: it does not hold the official "
                    f"{source.name} {IDX_NAMES[key]} (MD5 {actual})"
                )


def _load_npz(path: str | os.PathLike, verify: bool = True, source: Source = MNIST) -> tuple[Split, Split]:
    """Load a Keras-format ``.npz`` (such as ``mnist.npz``), and optionally check it against the official MD5s.

    Copy along: ``_read_npz``, ``_check_npz_arrays``, ``_check_split``, ``Source``, ``MNIST``.

    Args:
        path: the file.
        verify: check the arrays against the official MD5s.
        source: the dataset whose checksums and name apply.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: naming the file, if it is not an npz, lacks an array, holds a bad one, or fails the checksum.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "mnist.npz"
    >>> images, labels = np.zeros((3, 28, 28), np.uint8), np.array([5, 0, 4], np.uint8)
    >>> np.savez(path, x_train=images, y_train=labels, x_test=images, y_test=labels)
    >>> _load_npz(path, verify=False)[0][1]
    array([5, 0, 4], dtype=uint8)
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    arrays = _read_npz(path, source)
    _check_npz_arrays(path, arrays, verify, source)
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], f"{path}[x_{split}]", f"{path}[y_{split}]")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_folder(folder: str | os.PathLike, verify: bool = True, source: Source = MNIST) -> tuple[Split, Split]:
    """Load a dataset from a folder holding the four IDX files or, for MNIST, Keras' ``mnist.npz``.

    Copy along: ``_load_idx_folder``, ``_load_npz``, ``_find_idx``, ``Source``, ``MNIST``.

    Raises:
        FileNotFoundError: if the folder does not exist or holds neither form.

    >>> _load_folder("/no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST data folder /no/such/folder does not exist
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{source.name} data folder {folder} does not exist")
    has_idx = any(_find_idx(folder, name) for name in IDX_NAMES.values())
    if not has_idx and source.is_npz and (folder / source.keras_cache).is_file():
        return _load_npz(folder / source.keras_cache, verify, source)
    return _load_idx_folder(folder, verify, source)


def _keras_cache_path(source: Source = MNIST) -> Path:
    """Return where Keras keeps a dataset: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``, then its file or folder.

    Copy along: ``Source``, ``MNIST``.

    >>> _keras_cache_path().name
    'mnist.npz'
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / source.keras_cache


def _fetch(source: Source, names: list[str], origin: str, file_hash: str | None, staging: Path) -> None:
    """Download each of a dataset's files into ``staging`` with ``keras.utils.get_file``, checking any hash.

    Copy along: ``Source``.

    Raises:
        ConnectionError: naming the URL, if a download fails.
        ValueError: naming the URL, if a file does not match its hash.
    """
    import keras  # here, not at the top: loading from files should not have to import TensorFlow

    for name in names:
        url = origin if source.is_npz else origin + name
        try:
            keras.utils.get_file(fname=name, origin=url, file_hash=file_hash or source.file_hash,
                                 cache_dir=str(staging), cache_subdir=".")
        except ValueError as error:
            raise ValueError(f"download from {url} rejected: {error}") from error
        except Exception as error:  # get_file raises a bare Exception for URL failures
            raise ConnectionError(f"downloading {url} failed: {error}") from error


def _check_download(source: Source, staging: Path, npz_name: str, origin: str, verify: bool) -> None:
    """Load the files downloaded into ``staging`` (checking the official MD5s, if ``verify``), or raise ValueError.

    Copy along: ``_load_npz``, ``_load_idx_folder``, ``Source``.
    """
    try:
        if source.is_npz:
            _load_npz(staging / npz_name, verify, source)
        else:
            _load_idx_folder(staging, verify, source)
    except ValueError as error:
        raise ValueError(f"download from {origin} rejected: {error}") from error


def _download(
    source: Source = MNIST,
    target: str | os.PathLike | None = None,
    origin: str | None = None,
    file_hash: str | None = None,
    verify: bool = True,
) -> Path:
    """Download a dataset's Keras files with ``keras.utils.get_file``, check them, and move them into place atomically.

    MNIST is one ``mnist.npz``, checked against its SHA-256; Fashion-MNIST is four ``.gz`` IDX
    files, as ``keras.datasets.fashion_mnist`` downloads them. The files land in a temporary
    folder beside ``target``, are loaded and checked there (the official MD5s, unless ``verify``
    is false), and are renamed into place only then: a failed download leaves nothing behind.

    Copy along: ``_keras_cache_path``, ``_fetch``, ``_check_download``, ``Source``, ``MNIST``.

    Args:
        source: the dataset, ``MNIST`` or ``FASHION_MNIST``.
        target: where to put it, the npz file or the folder of ``.gz`` files; the Keras cache by default.
        origin: the npz's URL, or the URL the ``.gz`` file names are appended to; the source's by default.
        file_hash: the npz's SHA-256; the source's by default.
        verify: check the content against the official MD5s before it lands.

    Returns:
        The target path.

    Raises:
        ConnectionError: if a download fails.
        ValueError: if a hash or the content does not match.

    >>> _download(MNIST, "/tmp/mnist.npz", origin="http://127.0.0.1:9/mnist.npz")
    Traceback (most recent call last):
    ...
    ConnectionError: downloading http://127.0.0.1:9/mnist.npz failed: ...
    """
    target = Path(target) if target is not None else _keras_cache_path(source)
    origin = origin if origin is not None else source.origin
    folder = target.parent if source.is_npz else target
    names = [target.name] if source.is_npz else [f"{name}.gz" for name in IDX_NAMES.values()]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        _fetch(source, names, origin, file_hash, staging)
        _check_download(source, staging, target.name, origin, verify)
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_dataset(
    source: Source = MNIST,
    data_dir: str | os.PathLike | None = None,
    verify: bool = True,
    origin: str | None = None,
    file_hash: str | None = None,
) -> tuple[Split, Split]:
    """Load a dataset in MNIST's format as ``((x_train, y_train), (x_test, y_test))``, as Keras' ``load_data()`` does.

    Copy along: ``_load_folder``, ``_load_npz``, ``_load_idx_folder``, ``_find_idx``, ``_download``, ``_keras_cache_path``, ``Source``, ``MNIST``.

    Args:
        source: the dataset, ``MNIST`` or ``FASHION_MNIST``.
        data_dir: a folder of the four IDX files (``.gz`` or not), or of MNIST's ``mnist.npz``;
            by default the folder in the source's environment variable, then the Keras cache, then a download.
        verify: check the data against the official MD5s.
        origin: the download's URL; the source's by default.
        file_hash: the download's SHA-256; the source's by default.

    Returns:
        uint8 arrays of shape (60000, 28, 28), (60000,), (10000, 28, 28) and (10000,).

    Raises:
        FileNotFoundError: if no source has the data; the message says how to provide it.
        ValueError: naming the file, if the data is bad.

    >>> (x_train, y_train), _ = load_dataset(MNIST)
    >>> x_train.shape, y_train[:10]
    ((60000, 28, 28), array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], dtype=uint8))
    """
    if data_dir is not None:
        return _load_folder(data_dir, verify, source)
    if os.environ.get(source.env_var):
        return _load_folder(os.environ[source.env_var], verify, source)
    cache = _keras_cache_path(source)
    cached = cache.is_file() if source.is_npz else all(_find_idx(cache, name) for name in IDX_NAMES.values())
    if not cached:
        try:
            _download(source, cache, origin, file_hash, verify)
        except ConnectionError as error:
            files = ", ".join(f"{name}.gz" for name in IDX_NAMES.values())
            keras_form = f"copy Keras' {source.keras_cache} to {cache}" if source.is_npz else f"copy the four .gz files to {cache}"
            raise FileNotFoundError(
                f"No {source.name} data found and the download failed ({error}). Provide the data in one of these "
                f"ways: pass data_dir=... a folder holding the four official IDX files ({files})"
                f"{' or ' + source.keras_cache if source.is_npz else ''}; or set the environment variable "
                f"{source.env_var} to such a folder; or {keras_form}."
            ) from error
    return _load_npz(cache, verify, source) if source.is_npz else _load_idx_folder(cache, verify, source)


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    verify: bool = True,
    origin: str = KERAS_URL,
    file_hash: str = KERAS_SHA256,
) -> tuple[Split, Split]:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``, like ``keras.datasets.mnist.load_data()``.

    ``load_dataset(MNIST, ...)``: ``data_dir``, then ``$MNIST_DATA_DIR``, then the Keras cache, then a download.

    Copy along: ``load_dataset``, ``MNIST``.

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()
    >>> x_train.shape, y_train[:10]
    ((60000, 28, 28), array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], dtype=uint8))
    """
    return load_dataset(MNIST, data_dir, verify, origin, file_hash)


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None, verify: bool = True, origin: str = FASHION_URL
) -> tuple[Split, Split]:
    """Load Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, like ``keras.datasets.fashion_mnist.load_data()``.

    ``load_dataset(FASHION_MNIST, ...)``: ``data_dir``, then ``$FASHION_MNIST_DATA_DIR``, then the
    Keras cache (``datasets/fashion-mnist``), then a download. Class names: ``FASHION_MNIST.class_names``.

    Copy along: ``load_dataset``, ``FASHION_MNIST``.

    >>> (x_train, y_train), _ = load_fashion_mnist()
    >>> [FASHION_MNIST.class_names[label] for label in y_train[:3]]
    ['Ankle boot', 'T-shirt/top', 'T-shirt/top']
    """
    return load_dataset(FASHION_MNIST, data_dir, verify, origin)
