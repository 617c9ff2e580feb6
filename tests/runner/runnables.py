"""Runnables for the runner tests: importable by worker processes as ``tests.runner.runnables``."""

from __future__ import annotations

import os
import time

from bentotui.exceptions import BadInput
from bentotui.runner import Runnable


class Doubler(Runnable):
    """Doubles its input; ``delay_s`` makes each batch take a while (to force queueing)."""

    SUPPORTS_CPU_MULTI_THREADING = True

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    @Runnable.method(batchable=True, batch_dim=0)
    def predict(self, x, scale=2):
        if self.delay_s:
            time.sleep(self.delay_s)
        if isinstance(x, list):
            return [v * scale for v in x]
        return x * scale

    @Runnable.method(batchable=True)
    def width4(self, x):
        if x.shape[1] != 4:
            raise BadInput(f"expected 4 features, got {x.shape[1]}", detail={"got": x.shape[1]})
        return x.sum(axis=1)

    @Runnable.method
    def pid(self):
        return os.getpid()

    @Runnable.method
    def fail(self, kind):
        if kind == "bad":
            raise BadInput("expected 4 features, got 2", detail={"expected": 4})
        raise ValueError("boom\nsecond line")

    @Runnable.method
    def threads(self):
        return os.environ.get("OMP_NUM_THREADS")

    @Runnable.method
    def count(self, n):
        yield from range(n)


class Broken(Runnable):
    """Cannot be built: a worker must report the error, not hang."""

    @Runnable.method
    def predict(self, x):
        return x

    def __init__(self) -> None:
        raise RuntimeError("cannot load the model file")


def make_doubler(delay_s: float = 0.0) -> Doubler:
    """A factory by reference (what the service front-ends use)."""
    return Doubler(delay_s=delay_s)


class IrisLR(Runnable):
    """An sklearn-like runnable: LogisticRegression trained on iris (shipped with scikit-learn)."""

    SUPPORTS_CPU_MULTI_THREADING = True

    def __init__(self) -> None:
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression

        iris = load_iris()
        self.model = LogisticRegression(max_iter=1000).fit(iris.data, iris.target)

    @Runnable.method(batchable=True, batch_dim=0)
    def predict(self, x):
        return self.model.predict(x)


class IrisForest(IrisLR):
    """A RandomForest(100): ~4 ms a call whatever the batch size, so batching is what makes it fast."""

    def __init__(self) -> None:
        from sklearn.datasets import load_iris
        from sklearn.ensemble import RandomForestClassifier

        iris = load_iris()
        self.model = RandomForestClassifier(n_estimators=100, random_state=0).fit(iris.data, iris.target)


class ForkProbe(Doubler):
    """A Doubler that tells how its process was started (the fork server's tests)."""

    @Runnable.method
    def parent(self):
        return os.getppid()

    @Runnable.method
    def draw(self):
        """A number from NumPy's global random state (forked workers must not repeat each other)."""
        import numpy as np

        return float(np.random.random())

    @Runnable.method
    def blas_threads(self):
        """The thread count of each native thread pool loaded here (threadpoolctl's view)."""
        from threadpoolctl import threadpool_info

        return sorted({pool["num_threads"] for pool in threadpool_info()})


class BrokenWhileMarked(Doubler):
    """A Doubler that cannot start while the file ``marker`` exists (a worker that fails to restart)."""

    def __init__(self, marker: str) -> None:
        if os.path.exists(marker):
            raise RuntimeError("cannot load the model file")
        super().__init__()
