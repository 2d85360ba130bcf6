"""Fetching a torchvision dataset's files, with progress and without leaving partial files.

torchvision's own ``download=True`` writes straight to the final file name, so a
broken connection leaves a file that a later run takes for data. Here each file is
written to ``NAME.part`` in the same folder, checked against torchvision's MD5, and
only then renamed into place; on any failure the ``.part`` file is removed.

``DATALOUPE_MIRROR`` (a base URL) replaces every dataset's own servers: for a local
mirror on a machine without internet, and for the tests.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dataloupe.core.errors import Cancelled, DownloadError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.wording import size

TIMEOUT = 30.0
"""Seconds to wait for a server before giving up on it."""
CHUNK = 1 << 16


@dataclass(frozen=True)
class Resource:
    """One file a dataset needs, where to get it and how to check it."""

    urls: tuple[str, ...]
    """Places to try, in order."""
    path: Path
    """Where it goes."""
    md5: str | None
    """torchvision's checksum for it."""

    @property
    def name(self) -> str:
        return self.path.name


def mirror_urls(urls: tuple[str, ...], filename: str) -> tuple[str, ...]:
    """``urls``, or the ``DATALOUPE_MIRROR`` base URL joined with ``filename`` when set."""
    base = os.environ.get("DATALOUPE_MIRROR")
    if base:
        return (base.rstrip("/") + "/" + filename,)
    return urls


def md5sum(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(
    resource: Resource,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Download one resource atomically; raises ``OSError``-like errors as ``DownloadError`` text.

    Raises :class:`Cancelled` when ``cancel`` is set; never leaves ``.part`` behind.
    """
    resource.path.parent.mkdir(parents=True, exist_ok=True)
    part = resource.path.with_name(resource.path.name + ".part")
    errors: list[str] = []
    for url in resource.urls:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "dataloupe (pytorch/vision)"})
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response, open(part, "wb") as out:
                total = response.length
                done = 0
                report(progress, f"downloading {resource.name}", 0, total)
                while True:
                    check_cancel(cancel)
                    block = response.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    report(progress, f"downloading {resource.name}", done, total)
                out.flush()
                os.fsync(out.fileno())
            if total is not None and done < total:
                raise OSError(f"connection closed after {size(done)} of {size(total)}")
            if resource.md5 and md5sum(part) != resource.md5:
                raise OSError("the file's MD5 checksum does not match torchvision's")
            os.replace(part, resource.path)
            return
        except Cancelled:
            part.unlink(missing_ok=True)
            raise
        except urllib.error.HTTPError as e:
            part.unlink(missing_ok=True)
            errors.append(f"{url}: HTTP {e.code} {e.reason}")
        except (urllib.error.URLError, OSError, ValueError) as e:
            part.unlink(missing_ok=True)
            reason = getattr(e, "reason", None) or e
            errors.append(f"{url}: {reason}")
    raise DownloadError("; ".join(errors))
