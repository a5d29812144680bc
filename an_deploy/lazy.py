"""One way to import a module only when it is first used.

Two kinds of import are deferred, and only through :func:`lazy_import`:

* optional heavy dependencies that a command may not need and an install may not have (matplotlib for the
  latency chart; TensorRT is chosen at run time by :mod:`an_deploy.trt.availability`);
* the library behind a command-line command (and torch in ``report_schema``, which the commands read before
  they run), so that ``an-deploy --help`` and ``--version`` answer without importing torch.

Everything else is imported at the top of its module.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

from an_deploy.errors import UserError


class MissingDependency(UserError):
    """A deferred module is not installed; the message says what to install."""


class LazyModule(types.ModuleType):
    """A stand-in that imports the named module on first attribute access and then forwards to it."""

    def __init__(self, name: str, install_hint: str | None = None) -> None:
        super().__init__(name)
        self._lazy_hint = install_hint
        self._lazy_module: types.ModuleType | None = None

    def _load(self) -> types.ModuleType:
        if self._lazy_module is None:
            try:
                self._lazy_module = importlib.import_module(self.__name__)
            except ModuleNotFoundError as e:
                if self._lazy_hint is None or e.name is None or not self.__name__.startswith(e.name):
                    raise
                raise MissingDependency(f"{self.__name__} is not installed: {self._lazy_hint}") from None
        return self._lazy_module

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_lazy_"):
            raise AttributeError(attribute)
        return getattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())


def lazy_import(name: str, install_hint: str | None = None) -> Any:
    """A module object for ``name`` that is imported when one of its attributes is first read.

    Args:
        name: the absolute module name, e.g. ``"matplotlib.pyplot"``.
        install_hint: what to install when the module is missing (e.g. ``"pip install an-deploy[report]"``);
            without it a missing module raises the usual ``ModuleNotFoundError``.

    Returns:
        The stand-in (typed ``Any``: annotate through a ``TYPE_CHECKING`` import where types matter).

    Raises:
        MissingDependency: on first use, when the module is missing and ``install_hint`` was given.
    """
    return LazyModule(name, install_hint)
