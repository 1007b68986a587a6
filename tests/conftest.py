"""Shared fixtures: the real data folder and a local HTTP server for download tests."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder of official MNIST files: $MNIST_DATA_DIR, else ../shared/data/mnist."""
    folder = Path(os.environ.get("MNIST_DATA_DIR") or ROOT.parent / "shared" / "data" / "mnist")
    if not folder.is_dir():
        if os.environ.get("MNIST_DATA_DIR") or os.environ.get("CI"):
            pytest.fail(f"MNIST_DATA_DIR={folder} does not exist")
        pytest.skip("the official MNIST files are not here; set MNIST_DATA_DIR to run this test")
    return folder


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):
    """The full, verified dataset, loaded once per test session."""
    from mnist_tutorial.data import load_mnist

    return load_mnist(mnist_dir)


class LocalServer:
    """A tiny HTTP server on 127.0.0.1; `routes` maps a path to (status, body, declared length)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, int | None]] = {}
        self.hits: list[str] = []
        routes, hits = self.routes, self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                hits.append(self.path)
                status, body, length = routes.get(self.path, (404, b"not found", None))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)  # a declared length above len(body) simulates a cut connection

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve(self, path: str, body: bytes, status: int = 200, length: int | None = None) -> str:
        self.routes[path] = (status, body, length)
        return self.url + path


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
