"""Near copies: images that are the same picture shifted, brightened or re-encoded, within a split and
between train and test (where a copy is leakage: the test score rewards memorising it).

Each image, as grey and moved (by fractions of a pixel) so that the centre of its ink is the
image's centre, gets a 64-bit DCT hash (:mod:`dataloupe.core.checks.phash`). Pairs within
:data:`MAX_DISTANCE` bits are candidates; a candidate is a near copy when the two images, centred
by whole pixels, also correlate at :data:`MIN_CORRELATION` or more at their best relative shift of
up to a pixel. On MNIST the hash alone cannot tell digits apart (hundreds of pairs of different
test digits share the very same hash), and the correlation can: two different test digits reach
0.986 at most, the benchmark's shifted and brightened copies 0.997 or more.

    python -c "import torch; from dataloupe.core.checks.phash import phash, centred, grey; print(phash(centred(grey(torch.rand(2, 1, 28, 28)))))"
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from dataloupe.core.checks.findings import Finding
from dataloupe.core.checks.gather import DeepSamples, SplitSamples
from dataloupe.core.checks.phash import best_shift_correlation, centred, close_pairs, grey, phash
from dataloupe.core.checks.results import CheckResult
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.wording import plural

MAX_DISTANCE = 6
"""Hash bits two images may differ in and still be compared pixel by pixel."""
MIN_CORRELATION = 0.99
"""Correlation at the best shift from which two images are the same picture."""
CHUNK = 4096
"""Images hashed at once."""
NAMED = 4
"""Pairs named in the evidence; every one is in the findings."""


def split_hashes(s: SplitSamples, cancel: threading.Event | None = None) -> tuple[np.ndarray, torch.Tensor]:
    """The hash of every image of a split, and the images as grey, centred by whole pixels, in the
    stored dtype (about the stored size): what candidate pairs are compared on. A chunk at a time."""
    hashes, aligned = [np.zeros(0, np.uint64)], []
    for start in range(0, len(s), CHUNK):
        check_cancel(cancel)
        g = grey(s.x[start : start + CHUNK])
        hashes.append(phash(centred(g)))
        whole = centred(g, whole_pixels=True)
        aligned.append(whole.round().to(torch.uint8) if s.x.dtype == torch.uint8 else whole)
    return np.concatenate(hashes), torch.cat(aligned) if aligned else torch.zeros(0, 1, 1)


def correlations(
    a: torch.Tensor, i: np.ndarray, b: torch.Tensor, j: np.ndarray, cancel: threading.Event | None = None
) -> np.ndarray:
    """The best-shift correlation of aligned images ``a[i[k]]`` and ``b[j[k]]``, a chunk of pairs at a time."""
    out = np.zeros(len(i))
    for start in range(0, len(i), CHUNK):
        check_cancel(cancel)
        pa = torch.from_numpy(i[start : start + CHUNK])
        pb = torch.from_numpy(j[start : start + CHUNK])
        out[start : start + len(pa)] = best_shift_correlation(a.index_select(0, pa), b.index_select(0, pb))
    return out


def check_near_copies(
    samples: DeepSamples,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[CheckResult, list[Finding]]:
    """Near copies within each split (warn) and between train and test (fail)."""
    if samples.kind != "image":
        return (
            CheckResult("near copies", "pass", "tables: rows equal after rounding are listed under quality"),
            [],
        )
    hashed = {}
    for k, (name, s) in enumerate(samples.splits.items()):
        report(progress, "hashing every image", k, len(samples.splits))
        hashed[name] = split_hashes(s, cancel)
    report(progress, "hashing every image", 1, 1)
    findings: list[Finding] = []
    within: dict[str, int] = {}
    names = list(samples.splits)
    for a_name in names:
        for b_name in names[names.index(a_name) :]:
            check_cancel(cancel)
            same = a_name == b_name
            (ha, ga), (hb, gb) = hashed[a_name], hashed[b_name]
            i, j, d = close_pairs(ha, None if same else hb, MAX_DISTANCE, cancel)
            corr = correlations(ga, i, gb, j, cancel)
            keep = corr >= MIN_CORRELATION
            pairs = sorted(zip(d[keep], -corr[keep], i[keep], j[keep], strict=True))
            # the later sample (or the test one) is named, as a copy of the other
            for dist, neg_corr, x, y in pairs:
                a, b = samples.splits[a_name], samples.splits[b_name]
                findings.append(_pair(samples, b, int(y), a, int(x), int(dist), -float(neg_corr)))
            if same:
                within[a_name] = len(pairs)
    return _result(samples, findings, within), findings


def _pair(
    samples: DeepSamples, s: SplitSamples, i: int, o: SplitSamples, j: int, dist: int, corr: float
) -> Finding:
    other = o.where(j) or f"{o.name} {j:,}"
    return samples.finding(
        "near copies",
        s,
        i,
        f"near copy of {other} (correlation {corr:.3f})",
        float(dist),
        other_split=o.name,
        other_index=j,
        other_where=o.where(j),
        value=round(corr, 4),
    )


def groups(findings: list[Finding]) -> int:
    """How many groups the pairs make (samples linked by a chain of near copies)."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(k: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for f in findings:
        parent[root((f.split, f.index))] = root((f.other_split or f.split, f.other_index or 0))
    return len({root(k) for k in list(parent)})


def _result(samples: DeepSamples, findings: list[Finding], within: dict[str, int]) -> CheckResult:
    leaked = [f for f in findings if f.split != f.other_split]
    inside = [f for f in findings if f.split == f.other_split]
    sizes = " and ".join(f"{n} {len(s):,}" for n, s in samples.splits.items())
    if not findings:
        return CheckResult(
            "near copies",
            "pass",
            f"no near copies among {sizes} images (shifted, brighter or darker copies included)",
        )
    parts = []
    if inside:
        per = ", ".join(f"{n:,} in {name}" for name, n in within.items() if n)
        parts.append(
            f"{plural(len(inside), 'pair')} of near copies within a split ({per}; {groups(inside):,} groups)"
        )
    named = "; ".join(
        f"{f.place} ≈ {f.other_where or f'{f.other_split} {f.other_index:,}'}"
        for f in (leaked or inside)[:NAMED]
    )
    if leaked:
        test = {f.index for f in leaked}
        n_test = len(samples.splits[leaked[0].split])
        text = (
            f"{len(test):,} of {n_test:,} {leaked[0].split} images are near copies of {leaked[0].other_split} images: "
            f"the test score rewards memorising them. {named}"
        )
        if parts:
            text += f"; also {parts[0]}"
        return CheckResult(
            "near copies",
            "fail",
            text,
            "drop those test images (or their training twins), so that test measures pictures the model has not seen",
        )
    return CheckResult(
        "near copies",
        "warn",
        f"{parts[0]}: {named}",
        "drop the extra copies: they weigh those pictures double in training",
    )
