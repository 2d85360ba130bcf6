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


TRAINING_PER_CLASS = (0.97, 0.99, 0.94, 0.91, 0.95, 0.97, 0.96, 0.94, 0.571, 0.88)
"""Per-class test accuracy of the made-up run: class 8 is the weakest, at 57.1%."""


def _result(accuracy: float):
    """An evaluation of the made-up run: each class mostly right, some confused with the next one."""
    from dataloupe.core.training.run import EvalResult

    confusion = tuple(
        tuple(30 if t == p else (3 if p == (t + 1) % 10 else 0) for p in range(10)) for t in range(10)
    )
    return EvalResult(accuracy, 0.3, TRAINING_PER_CLASS, confusion, 359)


def training_snapshot(state: str = "running", **changes):
    """A made-up ``TrainingSnapshot`` of digits: 100 epochs, at epoch 12, every figure in its widest form."""
    from dataloupe.core.training.run import Evaluation, TrainingSnapshot

    epochs = tuple(float(e) for e in range(1, 13))
    fields = dict(
        state=state,
        step=1_234,
        total_steps=36_000,
        epoch=12,
        epochs=100,
        epoch_step=100,
        steps_per_epoch=360,
        samples_seen=5_000,
        loss=0.2428,
        loss_steps=tuple(range(0, 1_234, 10)),
        loss_values=tuple(2.3 / (1 + k / 10) for k in range(0, 1_234, 10)),
        accuracy_epochs=epochs,
        train_accuracy=tuple(0.80 + 0.015 * k for k in range(12)),
        test_accuracy=tuple(0.78 + 0.01 * k for k in range(12)),
        latest=Evaluation(1_200, 12.0, _result(0.912), _result(0.894)),
        samples_per_second=11_411.0,
        elapsed=75.0,
        eta=3_000.0,
        eval_seconds=1.0,
        gpu_memory=123_400_000,
        device="cpu (1 thread)",
        notes=("data held in memory on cpu, scaled once; batches by index permutation",),
        classes=tuple(str(k) for k in range(10)),
    )
    fields.update(changes)
    return TrainingSnapshot(**fields)


def write_photo_folder(root: Path, counts: dict[str, int], sizes, quality: int = 85, seed: int = 0) -> Path:
    """Write real-looking RGB JPEG "photos" of mixed sizes: smooth colour gradients with noise and a disc.

    ``sizes`` is a list of (width, height); image ``i`` of a class takes ``sizes[i % len(sizes)]``,
    so every class has every size.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    bases: dict[
        tuple[int, int, int], np.ndarray
    ] = {}  # one gradient per size and class, fresh noise per image
    for k, (cls, n) in enumerate(counts.items()):
        d = root / cls
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            w, h = sizes[i % len(sizes)]
            if (w, h, k) not in bases:
                yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
                base = np.stack([xx / w, yy / h, (xx + yy) / (w + h)], axis=-1) * 200
                base[..., k % 3] += 40 * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 3) ** 2)
                bases[w, h, k] = base
            noise = rng.standard_normal((h, w, 3), dtype=np.float32)
            noise *= 12
            noise += bases[w, h, k]
            img = np.clip(noise, 0, 255, out=noise).astype(np.uint8)
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
