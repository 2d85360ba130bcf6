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


def write_photo_folder(root: Path, counts: dict[str, int], sizes, quality: int = 85, seed: int = 0) -> Path:
    """Write real-looking RGB JPEG "photos" of mixed sizes: smooth colour gradients with noise and a disc.

    ``sizes`` is a list of (width, height); image ``i`` of a class takes ``sizes[i % len(sizes)]``,
    so every class has every size.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    for k, (cls, n) in enumerate(counts.items()):
        d = root / cls
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            w, h = sizes[i % len(sizes)]
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            base = np.stack([xx / w, yy / h, (xx + yy) / (w + h)], axis=-1) * 200
            base[..., k % 3] += 40 * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 3) ** 2)
            noise = rng.normal(0, 12, (h, w, 3)).astype(np.float32)
            img = np.clip(base + noise, 0, 255).astype(np.uint8)
            Image.fromarray(img, mode="RGB").save(d / f"{i:03d}.jpg", quality=quality)
    return root


def write_png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width``×``height`` pixels (RGB) with almost no data after it.

    Opening it is cheap; decoding it would allocate width × height × 3 bytes before failing.
    """
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    path.write_bytes(body + chunk(b"IEND", b""))
    return path
