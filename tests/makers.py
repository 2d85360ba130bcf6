"""Small datasets made on the fly for tests (imported by conftest and by tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_image_folder(root: Path, counts: dict[str, int], size=(12, 10), mode="L", seed=0) -> Path:
    """Write ``counts[cls]`` random PNG images per class sub-folder under ``root``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls, n in counts.items():
        d = root / cls
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            shape = size if mode == "L" else (*size, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode).save(d / f"{i:03d}.png")
    return root


def serve_folder(folder: Path):
    """Serve ``folder`` over HTTP on localhost in a thread; a context manager yielding the base URL."""
    import contextlib
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # a client that hangs up early is expected
            pass

    @contextlib.contextmanager
    def running():
        server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()

    return running()
