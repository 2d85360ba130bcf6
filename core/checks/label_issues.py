"""Likely label errors by confident learning (Northcutt, Jiang and Chuang, "Confident Learning:
Estimating Uncertainty in Dataset Labels", JAIR 70, 2021), in numpy.

The input is a matrix of out-of-sample predicted probabilities, one row per sample, from any
scorer that never saw the sample it scores (dataloupe's own K-fold models, or the user's model).
From it:

1. a threshold per class ``t_j``: the mean probability of class ``j`` over the samples labelled ``j``;
2. the confident joint ``C[i, j]``: samples labelled ``i`` whose probability of ``j`` reaches ``t_j``
   (the largest such ``j`` when several do), the estimate of "given ``i``, truly ``j``";
3. ``C`` calibrated to the label counts and normalised: the joint ``Q`` of given and true labels,
   whose off-diagonal share per row is each class's estimated share of wrong labels;
4. suspects: samples off the diagonal of ``C`` that are also among the ``n·Q[i, j]`` samples of
   each cell with the largest margin ``p_j − p_i`` (the paper's "both" method), ranked by
   self-confidence ``p_given`` (or by the normalised margin).

    python -c "import numpy as np; from dataloupe.core.checks.label_issues import find_label_issues; \\
p = np.array([[.9, .1], [.8, .2], [.2, .8], [.1, .9], [.95, .05]]); print(find_label_issues(np.array([0, 0, 1, 1, 1]), p).indices)"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Ranking = Literal["self_confidence", "normalized_margin"]
THRESHOLD_SCALE = 0.9
"""The per-class thresholds are the paper's times this. A few-epoch MLP's probabilities are less sure
than a trained network's: on MNIST with 2.5% of labels flipped, the paper's thresholds (1.0) left
out a quarter of the flips (precision 0.95, recall 0.77); 0.9 gives precision 0.88 and recall 0.86
(``tests/bench/bench_deep.py``)."""
MIN_PER_CLASS_FOLD = 5
"""Fewer samples of a class per fold than this leave a fold's model nothing to learn that class from."""


@dataclass(frozen=True)
class LabelIssues:
    """What confident learning found in one set of labels and probabilities."""

    indices: np.ndarray
    """Positions (into the labels given) of the likely label errors, most suspicious first."""
    given: np.ndarray
    """The given label of each suspect."""
    predicted: np.ndarray
    """The label each suspect looks like (the class of its confident-joint cell)."""
    self_confidence: np.ndarray
    """The probability of each suspect's given label."""
    predicted_probability: np.ndarray
    """The probability of each suspect's predicted label."""
    confident_joint: np.ndarray
    """C×C counts: row = given label, column = the label the sample confidently looks like."""
    noise_share: np.ndarray
    """Per class: the estimated share of samples given that label whose label is wrong."""
    thresholds: np.ndarray
    """Per class: the mean probability of the class over the samples labelled with it."""

    def confusions(self, top: int = 3) -> list[tuple[int, int, int]]:
        """The largest "given i, looks like j" counts among the suspects: ``(i, j, count)``."""
        if not len(self.indices):
            return []
        return top_pairs(self.given, self.predicted, top)


def top_pairs(given: np.ndarray, predicted: np.ndarray, top: int) -> list[tuple[int, int, int]]:
    """The ``top`` most frequent ``(given, predicted)`` pairs with their counts, largest first."""
    pairs, counts = np.unique(np.stack([given, predicted], axis=1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))[:top]
    return [(int(pairs[k, 0]), int(pairs[k, 1]), int(counts[k])) for k in order]


def find_label_issues(
    labels: np.ndarray,
    probs: np.ndarray,
    rank_by: Ranking = "self_confidence",
    threshold_scale: float = THRESHOLD_SCALE,
) -> LabelIssues:
    """Confident learning on ``labels`` (N ints in 0..C-1) and out-of-sample ``probs`` (N×C rows summing to 1).

    ``threshold_scale`` multiplies the paper's per-class thresholds (1.0 is the paper's method)."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probs, dtype=np.float64)
    n, c = p.shape
    if len(y) != n:
        raise ValueError(f"{len(y)} labels for {n} rows of probabilities")
    counts = np.bincount(y, minlength=c)[:c]
    sums = np.bincount(y, weights=p[np.arange(n), y], minlength=c)[:c]
    thresholds = np.where(counts > 0, sums / np.maximum(counts, 1) * threshold_scale, np.inf)
    # classes each sample confidently belongs to; the most probable of them is its "true" label
    above = p >= thresholds[None, :] - 1e-12
    masked = np.where(above, p, -1.0)
    true = masked.argmax(axis=1)
    confident = above.any(axis=1)
    joint = np.zeros((c, c), np.int64)
    np.add.at(joint, (y[confident], true[confident]), 1)
    # calibrate each row to the count of its given label, then normalise to a joint distribution
    row = joint.sum(axis=1, keepdims=True)
    calibrated = np.where(row > 0, joint / np.maximum(row, 1) * counts[:, None], 0.0)
    total = calibrated.sum()
    q = calibrated / total if total > 0 else calibrated
    q_rows = q.sum(axis=1)
    diag = np.diag(q)
    noise_share = np.where(q_rows > 0, 1.0 - diag / np.maximum(q_rows, 1e-300), 0.0)

    off = confident & (true != y)
    chosen = np.zeros(n, bool)
    for i in range(c):
        for j in range(c):
            if i == j:
                continue
            keep = int(round(n * q[i, j]))
            if keep <= 0:
                continue
            cell = np.flatnonzero(y == i)
            margin = p[cell, j] - p[cell, i]
            top = cell[np.argsort(-margin, kind="stable")[:keep]]
            chosen[top[off[top] & (true[top] == j)]] = True
    idx = np.flatnonzero(chosen)
    own = p[idx, y[idx]]
    if rank_by == "normalized_margin":
        others = p[idx].copy()
        others[np.arange(len(idx)), y[idx]] = -np.inf
        key = own - others.max(axis=1)
    else:
        key = own
    order = np.argsort(key, kind="stable")
    idx = idx[order]
    return LabelIssues(
        indices=idx,
        given=y[idx],
        predicted=true[idx],
        self_confidence=p[idx, y[idx]],
        predicted_probability=p[idx, true[idx]],
        confident_joint=joint,
        noise_share=noise_share,
        thresholds=thresholds,
    )
