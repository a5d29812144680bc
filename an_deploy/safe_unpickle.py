"""A pickle module for ``torch.load(..., pickle_module=safe_unpickle)`` that never imports or calls foreign code.

``Unpickler.find_class`` resolves only an allow-list: torch's tensor and parameter rebuild functions, ``torch.Size``,
``torch.device``, the dtypes, ``collections.OrderedDict``, ``_codecs.encode`` and plain builtin containers (torch
itself maps the ``*Storage`` names before they reach us). Every other global becomes an inert
:class:`ForeignObject` subclass that records its dotted name: calling it, building it, setting its state or items
only stores the arguments. So a training checkpoint whose optimizer entry holds an apex ``LossScaler`` still
yields its weights, and a hostile ``os.system`` REDUCE yields a placeholder instead of running.
"""

from __future__ import annotations

import builtins
import codecs
import collections
import io
import pickle
from typing import Any, ClassVar

import torch
from torch import _utils as torch_utils
from torch import nn
from torch._tensor import _rebuild_from_type_v2 as _torch_rebuild_from_type_v2

UnpicklingError = pickle.UnpicklingError

_TENSOR_REBUILDERS = {
    name: getattr(torch_utils, name)
    for name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
                 "_rebuild_parameter_with_state")
    if hasattr(torch_utils, name)
}
_BUILTINS = {name: getattr(builtins, name)
             for name in ("set", "frozenset", "list", "dict", "tuple", "bytearray", "bytes", "complex", "slice",
                          "int", "float", "bool", "str")}
_DTYPES = {name: value for name, value in vars(torch).items() if isinstance(value, torch.dtype)}


class ForeignObject:
    """Stand-in for a global outside the allow-list: records what the pickle asked for and does nothing else."""

    dotted_name: ClassVar[str] = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> ForeignObject:
        obj = super().__new__(cls)
        obj.__dict__.update(pickle_args=args, pickle_kwargs=kwargs, pickle_state=None, pickle_items={},
                            pickle_list=[])
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Accept any constructor arguments (already recorded by ``__new__``)."""

    def __setstate__(self, state: Any) -> None:
        self.__dict__["pickle_state"] = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__["pickle_items"][key] = value

    def append(self, value: Any) -> None:
        """Record an item of a list-like foreign object."""
        self.__dict__["pickle_list"].append(value)

    def extend(self, values: Any) -> None:
        """Record items of a list-like foreign object."""
        self.__dict__["pickle_list"].extend(values)

    def __repr__(self) -> str:
        return f"<foreign object {self.dotted_name}>"


_CONSTRUCTOR_HELPERS = ("copyreg._reconstructor", "copyreg.__newobj__", "copy_reg._reconstructor")


def foreign_name(obj: Any) -> str | None:
    """The dotted name of the class a placeholder stands for (``None`` for anything that is not a placeholder).

    For objects rebuilt through ``copyreg._reconstructor`` (old pickle protocols) it is the name of the class
    being reconstructed, not of the helper.
    """
    if isinstance(obj, type) and issubclass(obj, ForeignObject):
        return obj.dotted_name
    if not isinstance(obj, ForeignObject):
        return None
    args = obj.__dict__["pickle_args"]
    if obj.dotted_name in _CONSTRUCTOR_HELPERS and args:
        return foreign_name(args[0]) or obj.dotted_name
    return obj.dotted_name


def _placeholder(dotted: str) -> type[ForeignObject]:
    if not dotted.isprintable():  # a crafted name must not break a one-line error message
        dotted = ascii(dotted)
    return type(dotted.rsplit(".", 1)[-1], (ForeignObject,), {"dotted_name": dotted, "__module__": __name__})


def _rebuild_from_type_v2(func: Any, new_type: Any, args: tuple, state: Any) -> Any:
    """torch's subclass-tensor rebuild, for plain tensors and parameters only (anything else stays inert)."""
    if new_type in (torch.Tensor, nn.Parameter) and func in _TENSOR_REBUILDERS.values():
        return _torch_rebuild_from_type_v2(func, new_type, args, state)
    return _placeholder(foreign_name(new_type) or repr(new_type))(func, args, state)


class Unpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` whose globals come from the allow-list or are inert placeholders."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.foreign: dict[str, type[ForeignObject]] = {}

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` from the allow-list, else return (and remember) a placeholder class."""
        allowed = _allowed(module, name)
        if allowed is not None:
            return allowed
        dotted = f"{module}.{name}"
        if dotted not in self.foreign:
            self.foreign[dotted] = _placeholder(dotted)
        return self.foreign[dotted]


def _allowed(module: str, name: str) -> Any:
    if module == "torch._utils":
        return _TENSOR_REBUILDERS.get(name)
    if module == "torch._tensor" and name == "_rebuild_from_type_v2":
        return _rebuild_from_type_v2
    if module == "torch":
        if name == "Size":
            return torch.Size
        if name == "device":
            return torch.device
        if name == "Tensor":
            return torch.Tensor
        return _DTYPES.get(name)
    if module == "torch.nn.parameter" and name == "Parameter":
        return nn.Parameter
    if module == "collections" and name == "OrderedDict":
        return collections.OrderedDict
    if module == "_codecs" and name == "encode":
        return codecs.encode
    if module in ("builtins", "__builtin__"):
        return _BUILTINS.get(name)
    return None


def load(file: Any, **kwargs: Any) -> Any:
    """``pickle.load`` with the restricted :class:`Unpickler`."""
    return Unpickler(file, **kwargs).load()


def loads(data: bytes, **kwargs: Any) -> Any:
    """``pickle.loads`` with the restricted :class:`Unpickler`."""
    return load(io.BytesIO(data), **kwargs)
