"""Perceptual hashes of images and the pairs of images whose hashes are close: near copies.

:func:`phash` is the DCT hash of Zauner's thesis ("Implementation and Benchmarking of Perceptual
Image Hash Functions", 2010), as the BSD ``imagehash`` package computes it, vectorised over a
batch: each image as grey, resized to 32×32, its 2-D DCT, the 8×8 lowest frequencies, one bit per
coefficient above their median. A shift by a pixel, a brighter copy or a re-encoded one keeps
nearly every bit; two different pictures differ in about half of them.

:func:`close_pairs` finds every pair of hashes within a Hamming distance (popcount of XOR) by
brute force in blocks: 10,000 hashes take a fraction of a second, 60,000 a few seconds.

    python -c "import torch; from dataloupe.core.checks.phash import phash; \\
x = torch.rand(2, 1, 28, 28); print([hex(int(h)) for h in phash(torch.cat([x, x * 0.8]))])"
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - torch's own spelling

from dataloupe.core.progress import check_cancel

HASH_SIDE = 32
"""Images are resized to this square before the DCT."""
LOW = 8
"""The LOW×LOW lowest frequencies make the 64 bits."""


@lru_cache(maxsize=4)
def _dct_matrix(n: int) -> torch.Tensor:
    """The orthonormal DCT-II matrix of size n (rows are frequencies)."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(n, dtype=torch.float64)[None, :]
    m = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m.float()


def grey(images: torch.Tensor) -> torch.Tensor:
    """N×C×H×W (or N×H×W) images as N×H×W float32 grey levels, the mean of the channels."""
    x = images.float()
    return x.mean(dim=1) if x.dim() == 4 else x


def phash(images: torch.Tensor) -> np.ndarray:
    """The 64-bit DCT hash of each image (N×C×H×W or N×H×W, any value range), as uint64."""
    g = grey(images)
    if not len(g):
        return np.zeros(0, np.uint64)
    small = F.interpolate(g[:, None], size=(HASH_SIDE, HASH_SIDE), mode="bilinear", antialias=True)[:, 0]
    d = _dct_matrix(HASH_SIDE)
    low = (d[:LOW] @ small @ d[:LOW].T).reshape(len(g), LOW * LOW)
    bits = (low > low.median(dim=1, keepdim=True).values).numpy()
    return pack_bits(bits)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """N×64 booleans as N uint64, the first bit the highest."""
    packed = np.packbits(bits.astype(np.uint8), axis=1)  # N×8 bytes, big-endian bit order
    return packed.view(">u8").reshape(-1).astype(np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits that differ between uint64 hashes ``a`` and ``b`` (broadcast)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int64)


def close_pairs(
    a: np.ndarray,
    b: np.ndarray | None,
    max_distance: int,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of hashes within ``max_distance`` bits: ``(i, j, distance)``, sorted by ``(i, j)``.

    With ``b`` None, pairs inside ``a`` with ``i < j``; otherwise ``i`` indexes ``a`` and ``j`` ``b``.
    Multi-index hashing: the 64 bits are cut into ``max_distance + 1`` bands, and two hashes that
    differ in at most ``max_distance`` bits agree exactly on at least one band (pigeonhole); only
    the pairs that share a band are compared, so the work grows with the similar pairs, not with n².
    """
    one = b is None
    keys = a if one else np.concatenate([a, b])
    n_a = len(a)
    edges = np.linspace(0, 64, max_distance + 2).astype(int)
    found = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        band = (keys >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        for i, j in _same_key_pairs(band, cancel):
            if not one:  # one hash from each side, written (index in a, index in b)
                cross = (i < n_a) != (j < n_a)
                i, j = i[cross], j[cross]
                i, j = np.minimum(i, j), np.maximum(i, j) - n_a
                near = hamming(a[i], b[j]) <= max_distance
            else:
                near = hamming(a[i], a[j]) <= max_distance
            found.append(i[near] * len(keys) + j[near])
    pairs = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    i, j = pairs // len(keys), pairs % len(keys)
    return i, j, hamming(a[i], (a if one else b)[j])


PAIRS_AT_ONCE = 2**22
"""Candidate pairs made and compared at a time: bounds memory when many hashes share a band."""


def _same_key_pairs(key: np.ndarray, cancel: threading.Event | None = None):
    """Every pair ``i < j`` of positions whose keys are equal, in batches of arrays ``(i, j)``."""
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    for size in np.unique(sizes[sizes > 1]):
        a, b = np.triu_indices(size, k=1)
        groups = starts[sizes == size]  # every group of this size at once, a bounded batch at a time
        step = max(1, PAIRS_AT_ONCE // len(a))
        for g0 in range(0, len(groups), step):
            check_cancel(cancel)
            members = order[groups[g0 : g0 + step, None] + np.arange(size)[None, :]]
            pi, pj = members[:, a].reshape(-1), members[:, b].reshape(-1)
            yield np.minimum(pi, pj), np.maximum(pi, pj)


def best_shift_correlation(a: torch.Tensor, b: torch.Tensor, shift: int = 1, chunk: int = 8192) -> np.ndarray:
    """For pairs of grey images ``a[k]``, ``b[k]`` (K×H×W), the highest Pearson correlation over circular
    shifts of ``b`` by up to ``shift`` pixels: near 1 for a shifted, brighter or darker copy, lower for
    two different pictures of one thing (two different MNIST test digits reach 0.986 at most)."""
    out = np.zeros(len(a))
    h, w = a.shape[-2:]
    for start in range(0, len(a), chunk):
        pa = _standard(a[start : start + chunk])
        # b wrapped round by ``shift`` on every side: each shift is then a view, not a copy
        pb = F.pad(_standard(b[start : start + chunk])[:, None], (shift,) * 4, mode="circular")[:, 0]
        best = torch.full((len(pa),), -1.0)
        for dy in range(2 * shift + 1):
            for dx in range(2 * shift + 1):
                best = torch.maximum(best, (pa * pb[:, dy : dy + h, dx : dx + w]).sum((1, 2)))
        out[start : start + len(pa)] = best.numpy()
    return out


def _standard(g: torch.Tensor) -> torch.Tensor:
    """Each image less its mean, divided by its norm: a dot product of two is their correlation."""
    g = g.float()
    g = g - g.mean((1, 2), keepdim=True)
    return g / g.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]


def centred(g: torch.Tensor, whole_pixels: bool = False) -> torch.Tensor:
    """Grey images (N×H×W) moved so that the centre of their ink is the centre of the image.

    The ink is each pixel's level above the image's darkest one, so a brighter copy has the same
    centre. By default the move is by fractions of a pixel (bilinear, the border's value filling
    in), for hashing: a one-pixel shift moves the hash of a 28×28 digit by up to 24 of its 64 bits.
    With ``whole_pixels`` it is by whole pixels, wrapping round, and the pixels keep their values:
    for comparing two images pixel by pixel, where interpolation would blur them alike.
    """
    n, h, w = g.shape
    if not n:
        return g
    g = g.float()
    ink = g - g.amin((1, 2), keepdim=True)
    total = ink.sum((1, 2)).clamp_min(1e-12)
    cy = (ink.sum(2) * torch.arange(h)).sum(1) / total
    cx = (ink.sum(1) * torch.arange(w)).sum(1) / total
    if whole_pixels:
        rows = (torch.arange(h)[None, :] + torch.round(cy - (h - 1) / 2).long()[:, None]) % h
        cols = (torch.arange(w)[None, :] + torch.round(cx - (w - 1) / 2).long()[:, None]) % w
        return g[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    # grid_sample's coordinates run from -1 to 1 across the image (align_corners=True: pixel centres)
    ys = torch.linspace(-1, 1, h)[None, :, None] + ((cy - (h - 1) / 2) * 2 / max(h - 1, 1))[:, None, None]
    xs = torch.linspace(-1, 1, w)[None, None, :] + ((cx - (w - 1) / 2) * 2 / max(w - 1, 1))[:, None, None]
    grid = torch.stack(torch.broadcast_tensors(xs, ys), dim=-1)
    return F.grid_sample(g[:, None], grid, mode="bilinear", padding_mode="border", align_corners=True)[:, 0]
