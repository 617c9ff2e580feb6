"""``bentotui.sklearn``: scikit-learn estimators in the model store.

Two file formats:

* ``serialization="joblib"`` (default): fast and handles every estimator, but loading unpickles,
  which runs code chosen by whoever wrote the file, so a model imported from an archive loads
  only once the user trusts it (``bentotui models trust TAG``; see ``store.models.Provenance``).
* ``serialization="skops"``: the skops format rebuilds objects without unpickling.  skops refuses
  any type outside its audited default list unless the loader names it as trusted.  A flagged
  type can run code (skops calls it with arguments from the file), so :func:`load_model` trusts
  exactly the types skops flagged when the model was saved *here*, as kept in the store's
  provenance record; never a namespace, never a list from ``model.yaml`` (an archive writes
  that).  An imported model gets no flagged type until the user trusts the model or passes
  ``trusted=[...]``.

``external_modules=[module]`` (a module of the user's with a custom transformer or function in
the pipeline) writes the joblib file with cloudpickle, which stores that module's code by value:
the model then loads where the module is not importable (``joblib.load`` reads the file as usual).
The skops format rebuilds only importable types, so it refuses ``external_modules``.

Default runner signatures: ``predict`` and, when the estimator has it, ``predict_proba``, both
batchable along dimension 0.  A batch is any sequence of samples, as in BentoML: rows of numbers
(a 2-D array, a DataFrame, a list of lists) or single values (a list of texts for a
``TfidfVectorizer`` pipeline, a 1-D array, a Series).  When the estimator knows its input width
(``n_features_in_``) the runnable checks it, so a wrong shape is the caller's
:class:`~bentotui.exceptions.BadInput` (HTTP 400), not a 500.

scikit-learn, joblib and skops are imported inside the functions.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, InvalidArgument, StoreCorrupted
from bentotui.frameworks import _common
from bentotui.store.models import UntrustedModel

if TYPE_CHECKING:
    from bentotui.runner.runnable import Runnable
    from bentotui.store.models import Model
    from bentotui.store.tags import Tag

MODULE_NAME = "bentotui.sklearn"
LIBRARY = "scikit-learn"
FILES = {"joblib": "model.joblib", "skops": "model.skops"}
_DEFAULT_METHODS = ("predict", "predict_proba")


def save_model(
    name: str,
    obj: Any,
    *,
    signatures: Mapping[str, Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    external_modules: Sequence[ModuleType] | None = None,
    serialization: str = "joblib",
) -> Model:
    """Save a fitted estimator (or pipeline) as a new version of ``name``.

    ``external_modules``: modules whose code is saved with the model (see the module docstring).
    """
    import sklearn
    from sklearn.base import BaseEstimator

    if not isinstance(obj, BaseEstimator):
        raise InvalidArgument(f"bentotui.sklearn saves scikit-learn estimators, got {type(obj).__name__}")
    if serialization not in FILES:
        raise InvalidArgument(f"unknown serialization {serialization!r}; use one of: {', '.join(FILES)}")
    options: dict[str, Any] = {"serialization": serialization}
    # The input width lets an automatic service (``serve --model``) publish a valid example.
    if isinstance(getattr(obj, "n_features_in_", None), int):
        options["n_features_in"] = obj.n_features_in_
    trusted_types: list[str] = []
    if serialization == "skops":
        import skops.io

        data = skops.io.dumps(obj)
        trusted_types = skops.io.get_untrusted_types(data=data)

        if external_modules:
            raise InvalidArgument(
                "external_modules needs serialization='joblib': skops rebuilds only importable types"
            )

        def write(folder: Path) -> None:
            (folder / FILES["skops"]).write_bytes(data)

    elif external_modules:
        import cloudpickle

        options["pickler"] = "cloudpickle"

        def write(folder: Path) -> None:  # inside models.create, where the modules pickle by value
            with open(folder / FILES["joblib"], "wb") as fh:
                cloudpickle.dump(obj, fh)

    else:
        import joblib

        def write(folder: Path) -> None:
            joblib.dump(obj, folder / FILES["joblib"])

    defaults = {m: {"batchable": True, "batch_dim": 0} for m in _DEFAULT_METHODS if hasattr(obj, m)}
    return _common.save(
        name,
        obj,
        module=MODULE_NAME,
        framework_version=sklearn.__version__,
        default_signatures=defaults,
        signatures=signatures,
        labels=labels,
        metadata=metadata,
        custom_objects=custom_objects,
        options=options,
        write=write,
        external_modules=external_modules,
        trusted_types=trusted_types,
    )


def get(tag: Model | Tag | str) -> Model:
    """The stored model ``tag``; refused if it was not saved with ``bentotui.sklearn``."""
    return _common.resolve(tag, MODULE_NAME)


def load_model(tag_or_model: Model | Tag | str, *, trusted: Collection[str] = ()) -> Any:
    """The estimator, loaded from its joblib or skops file.

    ``trusted``: extra type names a skops file may contain (see the module docstring).  A joblib
    file is loaded only from a trusted model (:class:`~bentotui.store.models.UntrustedModel`).
    """
    import sklearn

    model = get(tag_or_model)
    _common.check_framework_version(model, LIBRARY, sklearn.__version__)
    serialization = _serialization(model)
    path = model.path_of(FILES[serialization])
    if serialization == "skops":
        return _load_skops(model, path, trusted)
    model.require_trust(FILES["joblib"])
    import joblib

    return joblib.load(path)


def _serialization(model: Model) -> str:
    serialization = model.info.options.get("serialization", "joblib")
    if serialization not in FILES:
        raise StoreCorrupted(f"model {model.tag}: unknown serialization {serialization!r} in model.yaml")
    return str(serialization)


def _load_skops(model: Model, path: Path, extra: Collection[str]) -> Any:
    """Load with exactly the flagged types the store vouches for, plus the caller's ``extra``."""
    import skops.io

    flagged = skops.io.get_untrusted_types(file=path)
    provenance = model.provenance
    allowed = set(extra)
    if provenance.trusted:
        # saved here: the exact list computed then; trusted by the user: the user's consent
        allowed |= set(flagged if provenance.trusted_types is None else provenance.trusted_types)
    refused = sorted(set(flagged) - allowed)
    if refused:
        how = "pass trusted=[...] to load_model if you trust them"
        if not provenance.trusted:
            how += f", or run `bentotui models trust {model.tag}` ({provenance.describe()})"
        raise UntrustedModel(
            f"model {model.tag}: its skops file needs types that are not trusted: {', '.join(refused)}; {how}",
            detail=refused,
        )
    return skops.io.load(path, trusted=flagged)


def get_runnable(model: Model) -> type[Runnable]:
    """The runnable class for ``model``: one batch-checking method per signature.

    An untrusted joblib model is refused here, before a server starts its workers.
    """
    if _serialization(model) == "joblib":
        model.require_trust(FILES["joblib"])
    return _common.build_runnable(
        model, class_name="SklearnRunnable", load=load_model, method_impl=_method, multi_threading=True
    )


def _method(method: str, signature: Mapping[str, Any]) -> _common.MethodImpl:
    def run(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
        batch = check_batch(x, getattr(self.model, "n_features_in_", None))
        try:
            return getattr(self.model, method)(batch, *args, **kwargs)
        except ValueError as exc:  # scikit-learn's input validation (NaN, strings, ...)
            raise BadInput(f"{method}: {exc}") from None

    return run


def check_batch(x: Any, n_features: int | None) -> Any:
    """``x`` as a batch of samples along dimension 0, checked against ``n_features`` when known.

    DataFrames and Series are kept as they are; lists and other array-likes become numpy arrays.
    A scalar (no batch axis), ragged rows, or rows of the wrong width for an estimator that
    knows its width are :class:`BadInput` naming the problem.
    """
    import numpy as np

    pandas = sys.modules.get("pandas")  # a DataFrame or Series can only arrive if pandas is loaded
    if pandas is None or not isinstance(x, (pandas.DataFrame, pandas.Series)):
        try:
            x = np.asarray(x)
        except ValueError:
            raise BadInput("rows of the batch have different lengths") from None
        if x.ndim == 0:
            raise BadInput(f"expected a batch (a list or array of samples), got a single {x.dtype} value")
    if n_features is not None:
        if x.ndim != 2:
            raise BadInput(f"expected a 2-D batch of rows of {n_features} features, got shape {list(x.shape)}")
        if x.shape[1] != n_features:
            raise BadInput(f"expected {n_features} features, got {x.shape[1]}")
    return x


__getattr__ = _common.artifact_alias(__name__, "SklearnModelArtifact")
