"""``bentoml.get_current_service()``: the service a process serves, for code outside its methods.

BentoML 1.2 docs inject it into FastAPI routes (``service: MyService =
Depends(bentoml.get_current_service)``) and use it for FastAPI routes written as methods of the
class (``self`` is injected the same way).  The instance of a ``@service`` class lives in a runner
worker, so:

* in that worker (and in a plain script that instantiates the class), it is the instance;
* in the API server process, where mounted apps run, it is a :class:`ServiceProxy`: its ``@api``
  methods call the instance in the worker through the runner (sync methods block, async ones are
  awaited, as the original is declared), and other names are read from the class.  Attributes an
  instance sets in ``__init__`` live in the worker; reading one here is an ``AttributeError`` that
  says so.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bentotui.runner.runner import Runner

_current: Any = None


def get_current_service() -> Any:
    """The instance (or, in the API server, the proxy) of the service this process serves."""
    if _current is None:
        raise RuntimeError("no service is being served in this process")
    return _current


def set_current_service(service: Any) -> None:
    """Record what :func:`get_current_service` returns (the worker and ``to_service`` call it)."""
    global _current
    _current = service


class ServiceProxy:
    """The API server's stand-in for an instance that lives in a runner worker."""

    def __init__(self, cls: type, runner: Runner, api_attrs: set[str]) -> None:
        self._cls = cls
        self._runner = runner
        self._api_attrs = api_attrs

    def __getattr__(self, name: str) -> Any:
        if name in self._api_attrs:
            method = getattr(self._runner, name)
            declared = getattr(self._cls, name)
            return method.async_run if inspect.iscoroutinefunction(declared) else method.run
        try:
            return getattr(self._cls, name)
        except AttributeError:
            raise AttributeError(
                f"{self._cls.__name__}.{name} is not a class attribute or @api method; attributes set in "
                "__init__ live in the runner worker that hosts the instance"
            ) from None

    def __repr__(self) -> str:
        return f"<{self._cls.__name__} served by runner {self._runner.name!r}>"
