"""An online estimate of how long a batch of ``n`` rows takes: ``seconds = a * n + b``.

A weighted least-squares line over the batches seen so far, where each new batch multiplies the
old weights by ``decay``: it follows a model that warms up or a machine that gets busier, and it
costs a few float operations per batch.  With only one batch size seen, the per-row slope cannot
be separated from the fixed cost, so the estimate assumes cost proportional to rows (pessimistic
for larger batches, which is the safe side for refusing work).

The first batch is left out (it pays lazy initialisation: imports, allocator, caches) and the
estimate only counts as ``warm`` after a few batches, so a burst of first calls to a fresh worker
is queued rather than refused on the strength of one cold sample.
"""

from __future__ import annotations


class CostModel:
    """``estimate(n)`` in seconds; ``update(n, seconds)`` after each batch."""

    #: batches needed (after the skipped first one) before the estimate is trusted for refusals
    WARM_AFTER = 3

    def __init__(self, decay: float = 0.95) -> None:
        self.decay = decay
        self._seen = 0
        self._w = self._n = self._nn = self._t = self._nt = 0.0
        self.a = 0.0  # seconds per row
        self.b = 0.0  # seconds per batch

    @property
    def warm(self) -> bool:
        return self._seen > self.WARM_AFTER

    def update(self, n: int, seconds: float) -> None:
        self._seen += 1
        if self._seen == 1:
            return
        d = self.decay
        self._w = self._w * d + 1.0
        self._n = self._n * d + n
        self._nn = self._nn * d + n * n
        self._t = self._t * d + seconds
        self._nt = self._nt * d + n * seconds
        det = self._w * self._nn - self._n * self._n
        if det > 1e-9 * max(self._w * self._nn, 1.0):
            a = (self._w * self._nt - self._n * self._t) / det
            b = (self._t - a * self._n) / self._w
            if a < 0:  # cost flat in the batch size (or rounding below zero): all fixed cost
                a, b = 0.0, self._t / self._w
            elif b < 0:  # a line through the origin fits best
                a, b = self._nt / self._nn, 0.0
            self.a, self.b = a, b
            return
        # one batch size so far: proportional
        self.a, self.b = self._t / max(self._n, 1e-12), 0.0

    def estimate(self, n: int) -> float:
        return self.a * n + self.b
