"""Tests for mnist_tutorial.data: parsing, verification, every bad input, download and the real files."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnist_tutorial import data
from mnist_tutorial.data import IDX_NAMES, load_mnist

idx_bytes = data._idx_bytes  # the loader's IDX encoder, the inverse of its parser: it writes the test files

RNG = np.random.default_rng(0)


def small_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    return RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8), RNG.integers(0, 10, n, dtype=np.uint8)


def write_idx_folder(folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = True) -> dict[str, np.ndarray]:
    """Write four small IDX files (gzip or not) and return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = small_split(n_train), small_split(n_test)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, array in arrays.items():
        content = idx_bytes(array)
        name = IDX_NAMES[key] + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(content) if gz else content)
    return arrays


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def folder_snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# --- IDX parsing -----------------------------------------------------------------------------


def test_idx_round_trip_keeps_shape_values_and_is_writable():
    images = small_split(3)[0]
    parsed = data._parse_idx(idx_bytes(images))
    assert parsed.shape == (3, 28, 28) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)
    parsed[0, 0, 0] = 1  # like keras.datasets.mnist, the arrays are writable


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"\x00\x00", "shorter than the IDX header"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00", "wrong magic number 0x00000d01"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00", "wrong magic number"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated inside its header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated: the header announces shape (5,)"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "has trailing bytes"),
    ],
)
def test_parse_idx_rejects_bad_content_naming_the_file(content, message):
    with pytest.raises(ValueError, match="labels.idx: ") as error:
        data._parse_idx(content, name="labels.idx")
    assert message in str(error.value)


def test_read_idx_reads_gzip_and_plain_alike(tmp_path):
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)
    (tmp_path / "a").write_bytes(idx_bytes(labels))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(data._read_idx(tmp_path / "a"), labels)
    np.testing.assert_array_equal(data._read_idx(tmp_path / "a.gz"), labels)


def test_read_idx_checks_the_md5_of_the_decompressed_content(tmp_path):
    content = idx_bytes(np.array([1, 2, 3], dtype=np.uint8))
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(content))
    assert data._read_idx(path, hashlib.md5(content).hexdigest()).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=f"{path}: checksum mismatch, the decompressed content has MD5"):
        data._read_idx(path, "0" * 32)


def test_read_idx_rejects_truncated_gzip(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8) % 10))[:-12])
    with pytest.raises(ValueError, match=f"{path}: not a valid gzip file, it is truncated or corrupt"):
        data._read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here: no such file"):
        data._read_idx(tmp_path / "nothing-here")


# --- Folders ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_a_folder_loads_in_keras_layout(tmp_path, gz):
    arrays = write_idx_folder(tmp_path, gz=gz)
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path, verify=False)
    for key, loaded in zip(IDX_NAMES, (x_train, y_train, x_test, y_test)):
        np.testing.assert_array_equal(loaded, arrays[key])
        assert loaded.dtype == np.uint8
    assert x_train.shape == (6, 28, 28) and y_test.shape == (4,)


def test_a_folder_is_verified_by_default(tmp_path):
    write_idx_folder(tmp_path)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: checksum mismatch"):
        load_mnist(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"MNIST data folder {tmp_path / 'nope'} does not exist"):
        load_mnist(tmp_path / "nope")


def test_missing_file_is_named(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"is missing t10k-labels-idx1-ubyte\[\.gz\]$"):
        load_mnist(tmp_path, verify=False)


def test_empty_file_is_named(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte: the file is empty"):
        load_mnist(tmp_path, verify=False)


def test_count_mismatch_names_both_files(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte holds 6 images but .*train-labels-idx1-ubyte holds 5"):
        load_mnist(tmp_path, verify=False)


def test_images_of_the_wrong_size_are_rejected(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 32, 32), dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte: expected images of shape \(n, 28, 28\)"):
        load_mnist(tmp_path, verify=False)


def test_labels_outside_0_to_9_are_rejected(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 3, 42], dtype=np.uint8)))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte: labels must be classes 0-9, found 42"):
        load_mnist(tmp_path, verify=False)


def test_loading_never_changes_the_users_files(tmp_path):
    write_idx_folder(tmp_path)
    before = folder_snapshot(tmp_path)
    load_mnist(tmp_path, verify=False)
    with pytest.raises(ValueError):
        load_mnist(tmp_path)
    assert folder_snapshot(tmp_path) == before


# --- npz -------------------------------------------------------------------------------------


def test_npz_folder_loads(tmp_path):
    arrays = write_idx_folder(tmp_path / "idx")
    (tmp_path / "mnist.npz").write_bytes(npz_bytes(arrays))
    (x_train, _), (_, y_test) = load_mnist(tmp_path, verify=False)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_unreadable_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(ValueError, match=f"{path}: unreadable npz file"):
        load_mnist(tmp_path)


def test_npz_without_the_mnist_arrays(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_bytes({"x_train": np.zeros((1, 28, 28), np.uint8)}))
    with pytest.raises(ValueError, match=f"{path}: not an MNIST npz, it lacks the arrays y_train, x_test, y_test"):
        load_mnist(tmp_path)


def test_npz_of_wrong_dtype(tmp_path):
    arrays = write_idx_folder(tmp_path / "idx")
    arrays["x_test"] = arrays["x_test"].astype(np.float32)
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_bytes(arrays))
    with pytest.raises(ValueError, match="array x_test has dtype float32, expected uint8"):
        load_mnist(tmp_path, verify=False)


def test_npz_checksum_mismatch(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_bytes(write_idx_folder(tmp_path / "idx")))
    with pytest.raises(ValueError, match=f"{path}: checksum mismatch in array x_train"):
        load_mnist(tmp_path)


# --- The Keras cache and the download --------------------------------------------------------


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.delenv("FASHION_MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "datasets"


def test_cached_npz_is_used_without_a_download(keras_home, local_server):
    arrays = write_idx_folder(keras_home.parent / "idx")
    keras_home.mkdir(parents=True)
    (keras_home / "mnist.npz").write_bytes(npz_bytes(arrays))
    (_, y_train), _ = load_mnist(verify=False, origin=local_server.url + "/mnist.npz")
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    assert local_server.hits == []


def test_download_caches_the_file(keras_home, local_server):
    arrays = write_idx_folder(keras_home.parent / "idx")
    body = npz_bytes(arrays)
    url = local_server.serve("/mnist.npz", body)
    (x_train, _), _ = load_mnist(verify=False, origin=url, file_hash=hashlib.sha256(body).hexdigest())
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert os.listdir(keras_home) == ["mnist.npz"]
    assert (keras_home / "mnist.npz").read_bytes() == body
    load_mnist(verify=False, origin=url)  # now from the cache
    assert local_server.hits == ["/mnist.npz"]


def test_download_with_wrong_hash_leaves_nothing(keras_home, local_server):
    url = local_server.serve("/mnist.npz", b"corrupted content")
    with pytest.raises(ValueError, match=f"download from {url} rejected: .*hash does not match"):
        load_mnist(verify=False, origin=url, file_hash="0" * 64)
    assert os.listdir(keras_home) == []


@pytest.mark.parametrize("status, length", [(500, None), (200, 10_000)])
def test_failed_or_interrupted_download_leaves_no_partial_file(keras_home, local_server, status, length):
    url = local_server.serve("/mnist.npz", b"the first bytes of a file", status=status, length=length)
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(origin=url)
    message = str(error.value)
    for advice in ("data_dir=", "MNIST_DATA_DIR", str(keras_home / "mnist.npz"), "train-images-idx3-ubyte.gz"):
        assert advice in message
    assert os.listdir(keras_home) == []


def test_download_never_overwrites_a_good_cache_with_a_bad_file(keras_home, local_server):
    keras_home.mkdir(parents=True)
    good = npz_bytes(write_idx_folder(keras_home.parent / "idx"))
    (keras_home / "mnist.npz").write_bytes(good)
    url = local_server.serve("/mnist.npz", b"bad")
    with pytest.raises(ValueError):
        data._download(data.MNIST, keras_home / "mnist.npz", origin=url, file_hash="0" * 64)
    assert (keras_home / "mnist.npz").read_bytes() == good
    assert os.listdir(keras_home) == ["mnist.npz"]


def test_environment_variable_is_a_source(tmp_path, monkeypatch):
    arrays = write_idx_folder(tmp_path)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    _, (x_test, _) = load_mnist(verify=False)
    np.testing.assert_array_equal(x_test, arrays["x_test"])


# --- The official files ----------------------------------------------------------------------


def test_official_files_facts(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    scaled = x_train / 255.0
    assert round(scaled.mean(), 5) == 0.13066 and round(scaled.std(), 5) == 0.30811


def test_official_files_as_npz_verify(mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (_, y), _ = load_mnist(tmp_path)  # verified against the official MD5s
    assert y[:3].tolist() == [5, 0, 4]


def test_corrupted_copy_of_the_official_folder_is_rejected(mnist_dir, tmp_path):
    for name in IDX_NAMES.values():
        shutil.copy(mnist_dir / f"{name}.gz", tmp_path)
    labels = bytearray(gzip.decompress((tmp_path / "train-labels-idx1-ubyte.gz").read_bytes()))
    labels[100] = (labels[100] + 1) % 10  # one wrong label, structure intact
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: checksum mismatch"):
        load_mnist(tmp_path)


# --- Every malformed file, in every form the loader accepts, is named in its error -------------

HEADER_3D = bytes([0, 0, 8, 3, 0, 0, 0, 6, 0, 0, 0, 28, 0, 0, 0, 28])  # six 28x28 images


def gzip_cut(content: bytes) -> bytes:
    packed = gzip.compress(content)
    return packed[: len(packed) // 2]


# Each fault: (the file it spoils, what the file then holds, given the arrays; the error expected).
IDX_FAULTS = {
    "empty": ("y_train", lambda a: b"", "the file is empty"),
    "truncated header": ("x_train", lambda a: b"\x00\x00\x08", "shorter than the IDX header"),
    "inside the header": ("x_train", lambda a: HEADER_3D[:10], "truncated inside its header"),
    "float data": ("x_test", lambda a: b"\x00\x00\x0d\x03" + HEADER_3D[4:], "wrong magic number 0x00000d03"),
    "no dimensions": ("y_test", lambda a: b"\x00\x00\x08\x00", "wrong magic number 0x00000800"),
    "not IDX at all": ("x_train", lambda a: b"<html>404 Not Found</html>", "wrong magic number"),
    "truncated data": ("x_train", lambda a: idx_bytes(a["x_train"])[:-5], "truncated: the header announces"),
    "trailing bytes": ("y_test", lambda a: idx_bytes(a["y_test"]) + b"\x00", "has trailing bytes"),
    "images 28x27": ("x_train", lambda a: idx_bytes(a["x_train"][:, :, :27]), "expected images of shape (n, 28, 28)"),
    "labels 2-D": ("y_train", lambda a: idx_bytes(a["y_train"][:, None]), "expected labels of shape (n,)"),
    "labels above 9": ("y_test", lambda a: idx_bytes(a["y_test"] + 10), "labels must be classes 0-9"),
    "one label short": ("y_train", lambda a: idx_bytes(a["y_train"][:-1]), "holds 6 images but"),
}
GZIP_FAULTS = {
    "gzip cut short": ("x_train", lambda a: gzip_cut(idx_bytes(a["x_train"])), "not a valid gzip file"),
    "gzip corrupt": ("y_train", lambda a: gzip.compress(idx_bytes(a["y_train"]))[:12] + b"\xff" * 40,
                     "not a valid gzip file"),
    "gzip then garbage": ("x_test", lambda a: gzip.compress(idx_bytes(a["x_test"])) + b"garbage",
                          "not a valid gzip file"),
}


@pytest.mark.parametrize(("fault", "gz"), [(fault, gz) for fault in IDX_FAULTS for gz in (False, True)]
                         + [(fault, True) for fault in GZIP_FAULTS])
def test_every_malformed_idx_file_is_named(tmp_path, fault, gz):
    arrays = write_idx_folder(tmp_path, gz=gz)
    key, content, message = {**IDX_FAULTS, **GZIP_FAULTS}[fault]
    spoilt = tmp_path / (IDX_NAMES[key] + (".gz" if gz else ""))
    content = content(arrays)
    spoilt.write_bytes(gzip.compress(content) if gz and fault in IDX_FAULTS else content)
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path, verify=False)
    assert str(spoilt) in str(error.value) and message in str(error.value)


def npz_with(arrays: dict[str, np.ndarray], **changes) -> bytes:
    return npz_bytes({**arrays, **changes})


def npz_member_garbled(arrays: dict[str, np.ndarray]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(npz_bytes(arrays))) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, b"\x93NUMPY garbage" if item.filename == "x_test.npy" else source.read(item))
    return buffer.getvalue()


def pickled(value) -> bytes:
    import pickle

    return pickle.dumps(value)


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def object_array_npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{**arrays, "y_train": np.array(list(arrays["y_train"]), dtype=object)})
    return buffer.getvalue()


NPZ_FAULTS = {
    "empty": (lambda a: b"", "unreadable npz file"),
    "text": (lambda a: b"x_train,y_train\n1,2\n", "not an npz file"),
    "zip cut short": (lambda a: npz_bytes(a)[:300], "unreadable npz file"),
    "a pickle": (lambda a: pickled(a), "not an npz file"),
    "one .npy array": (lambda a: npy_bytes(a["x_train"]), "not an npz file"),
    "an array missing": (lambda a: npz_bytes({k: v for k, v in a.items() if k != "y_test"}), "lacks the arrays y_test"),
    "object array": (object_array_npz, "array y_train cannot be read"),
    "garbled member": (npz_member_garbled, "array x_test cannot be read"),
    "float images": (lambda a: npz_with(a, x_train=a["x_train"] / 255), "array x_train has dtype float64"),
    "images 28x27": (lambda a: npz_with(a, x_test=a["x_test"][:, :, :27]), "expected images of shape (n, 28, 28)"),
    "labels above 9": (lambda a: npz_with(a, y_train=a["y_train"] + 10), "labels must be classes 0-9"),
    "one label short": (lambda a: npz_with(a, y_test=a["y_test"][:-1]), "holds 4 images but"),
}


@pytest.mark.parametrize("fault", NPZ_FAULTS)
def test_every_malformed_npz_is_named(tmp_path, fault):
    arrays = write_idx_folder(tmp_path / "idx")
    content, message = NPZ_FAULTS[fault]
    path = tmp_path / "mnist.npz"
    path.write_bytes(content(arrays))
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path, verify=False)
    assert str(path) in str(error.value) and message in str(error.value)


# --- Fashion-MNIST: the same code path, its own checksums, Keras' folder of .gz files ---------


def test_official_fashion_files_facts(fashion):
    """The facts the shared folder's README gives."""
    (x_train, y_train), (x_test, y_test) = fashion
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    scaled = x_train / 255.0
    assert round(scaled.mean(), 5) == 0.28604 and round(scaled.std(), 5) == 0.35302
    assert data.FASHION_MNIST.class_names[9] == "Ankle boot" and len(data.FASHION_MNIST.class_names) == 10


@pytest.mark.slow
def test_fashion_loads_exactly_what_keras_load_data_returns(fashion, fashion_dir, tmp_path):
    """Keras' loader reads its cache folder of .gz files (it checks no hash, so nothing is downloaded)."""
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in IDX_NAMES.values():
        (cache / f"{name}.gz").symlink_to(fashion_dir / f"{name}.gz")
    script = (
        "import os, numpy as np\n"
        "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "import keras\n"
        "(a, b), (c, d) = keras.datasets.fashion_mnist.load_data()\n"
        f"np.savez({str(tmp_path / 'keras.npz')!r}, x_train=a, y_train=b, x_test=c, y_test=d)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "KERAS_HOME": str(tmp_path / "keras")})
    with np.load(tmp_path / "keras.npz") as reference:
        for key, ours in zip(IDX_NAMES, (*fashion[0], *fashion[1])):
            assert reference[key].dtype == ours.dtype and np.array_equal(reference[key], ours), key


def test_fashion_is_checked_against_its_own_checksums(fashion_dir, mnist_dir):
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: checksum mismatch"):
        load_mnist(fashion_dir)  # MNIST's checksums
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: checksum mismatch"):
        data.load_fashion_mnist(mnist_dir)
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST data folder /no/such does not exist"):
        data.load_fashion_mnist("/no/such")


def test_fashion_environment_variable_and_keras_cache(keras_home, local_server, tmp_path, monkeypatch):
    arrays = write_idx_folder(tmp_path / "env")
    monkeypatch.setenv("FASHION_MNIST_DATA_DIR", str(tmp_path / "env"))
    np.testing.assert_array_equal(data.load_fashion_mnist(verify=False)[0][1], arrays["y_train"])
    monkeypatch.delenv("FASHION_MNIST_DATA_DIR")
    cached = write_idx_folder(keras_home / "fashion-mnist")
    (_, y_train), _ = data.load_fashion_mnist(verify=False, origin=local_server.url + "/")
    np.testing.assert_array_equal(y_train, cached["y_train"])
    assert local_server.hits == []


def serve_idx_folder(local_server, arrays: dict[str, np.ndarray], broken: str | None = None) -> str:
    """Serve four .gz IDX files as Keras' base URL serves Fashion-MNIST's; ``broken`` answers 500."""
    for key, array in arrays.items():
        name = f"/{IDX_NAMES[key]}.gz"
        local_server.serve(name, gzip.compress(idx_bytes(array)), status=500 if key == broken else 200)
    return local_server.url + "/"


def test_fashion_download_lands_four_files_atomically(keras_home, local_server, tmp_path):
    arrays = write_idx_folder(tmp_path / "source")
    origin = serve_idx_folder(local_server, arrays)
    (x_train, _), (_, y_test) = data.load_fashion_mnist(verify=False, origin=origin)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert sorted(os.listdir(keras_home)) == ["fashion-mnist"]
    assert sorted(os.listdir(keras_home / "fashion-mnist")) == sorted(f"{name}.gz" for name in IDX_NAMES.values())
    data.load_fashion_mnist(verify=False, origin=origin)  # now from the cache
    assert len(local_server.hits) == 4


def test_fashion_download_that_fails_midway_or_is_not_official_leaves_nothing(keras_home, local_server, tmp_path):
    arrays = write_idx_folder(tmp_path / "source")
    origin = serve_idx_folder(local_server, arrays, broken="x_test")
    with pytest.raises(FileNotFoundError) as error:
        data.load_fashion_mnist(origin=origin)
    for advice in ("No Fashion-MNIST data found", "data_dir=", "FASHION_MNIST_DATA_DIR", str(keras_home / "fashion-mnist")):
        assert advice in str(error.value)
    assert os.listdir(keras_home) == []
    origin = serve_idx_folder(local_server, arrays)  # complete now, but not the official content
    with pytest.raises(ValueError, match=f"download from {origin} rejected: .*checksum mismatch"):
        data.load_fashion_mnist(origin=origin)
    assert os.listdir(keras_home) == []
