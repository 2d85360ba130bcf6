"""A chart series kept at a fixed number of points however long it grows.

Training runs and the run logs that ``watch`` reads both keep their curves in one, so memory and
plotting cost stay fixed while a run goes on for days.

    python -c "from dataloupe.core.history import DecimatedHistory; h = DecimatedHistory(10); \
[h.add(x, x * x) for x in range(100)]; print(len(h), h.columns()[0])"
"""

from __future__ import annotations


class DecimatedHistory:
    """A series that keeps at most ``limit`` evenly spaced points however long it grows.

    When full it drops every other point and keeps only every second new one, so memory
    and plotting cost stay fixed while the shape of the curve survives.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Most points kept."""
        self.stride = 1
        """Keep one point in ``stride``."""
        self._count = 0
        self._xs: list[float] = []
        self._ys: list[tuple[float, ...]] = []
        self._last: tuple[float, tuple[float, ...]] | None = None

    def add(self, x: float, *ys: float) -> None:
        """Append a point (x and one or more y values)."""
        if self._count % self.stride == 0:
            self._xs.append(x)
            self._ys.append(ys)
            if len(self._xs) > self.limit:
                self._xs, self._ys = self._xs[::2], self._ys[::2]
                self.stride *= 2
            self._last = None
        else:
            self._last = (x, ys)  # the newest point is always shown, even between strides
        self._count += 1

    def __len__(self) -> int:
        return len(self._xs) + (self._last is not None)

    def columns(self) -> tuple[tuple[float, ...], ...]:
        """(xs, ys1, ys2, …) as tuples, newest point included."""
        xs, ys = list(self._xs), list(self._ys)
        if self._last is not None:
            xs.append(self._last[0])
            ys.append(self._last[1])
        width = len(ys[0]) if ys else 0
        return (tuple(xs), *(tuple(y[i] for y in ys) for i in range(width)))
