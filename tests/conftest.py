"""Shared fixtures: the real data folder and a local HTTP server for download tests."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder of official MNIST files, $MNIST_DATA_DIR (the root conftest checked that it exists)."""
    return Path(os.environ["MNIST_DATA_DIR"])


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):
    """The full, verified dataset, loaded once per test session."""
    from mnist_tutorial.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """The folder of official Fashion-MNIST files, $FASHION_MNIST_DATA_DIR (the root conftest checked it)."""
    return Path(os.environ["FASHION_MNIST_DATA_DIR"])


@pytest.fixture(scope="session")
def fashion(fashion_dir: Path):
    """Fashion-MNIST, verified, loaded once per test session."""
    from mnist_tutorial.data import load_fashion_mnist

    return load_fashion_mnist(fashion_dir)


@pytest.fixture(scope="session")
def machine_fingerprint() -> str:
    """This machine's fingerprint, computed once per test session (or by the nbval plugin), and shared with the runs
    the tests start: each computation is a fresh TensorFlow process."""
    from mnist_tutorial.tools.fingerprint import this_machine

    return this_machine()


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
