"""Savers that write checkpoints laid out as the authors' training code writes them (structure, not their code).

* AOGNet-v2 ``tools/main_fp16.py``: ``model_best.pth.tar`` = ``{'epoch', 'arch', 'state_dict', 'best_prec1',
  'optimizer'}``. The model is ``apex.fp16_utils.FP16Model`` (attribute ``network``; every module's own floating
  parameters and buffers in fp16 except BatchNorms with ``affine=True``) inside apex DDP (``module.``); ``arch``
  names the base network; ``optimizer`` is apex ``FP16_Optimizer.state_dict()``, whose ``loss_scaler`` entry is
  the pickled ``apex.fp16_utils.loss_scaler.(Dynamic)LossScaler`` object.
* iVMCL-Release ``tools_ivmcl/train_supervised.py``: ``model_best.pth`` = ``{'state_dict'}`` with DDP ``module.``
  keys; resume file ``current.pth`` = ``{'amp_opt_level', 'model', 'optimizer', 'epoch', 'best_acc1',
  'best_acc1_reallabels', 'scheduler', 'amp'}``; its released classifiers carry ``module.network.`` keys.

The apex classes exist (in ``sys.modules``) only while a file is being written, as on a machine without apex.
"""

from __future__ import annotations

import sys
import types
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

APEX_SCALER_MODULE = "apex.fp16_utils.loss_scaler"


@contextmanager
def fake_apex() -> Iterator[types.ModuleType]:
    """``apex``, ``apex.fp16_utils`` and ``apex.fp16_utils.loss_scaler`` with LossScaler classes, then gone."""
    names = ("apex", "apex.fp16_utils", APEX_SCALER_MODULE)
    assert not any(n in sys.modules for n in names), "a real apex is imported; these savers would shadow it"
    modules = {n: types.ModuleType(n) for n in names}
    scaler_module = modules[APEX_SCALER_MODULE]

    class LossScaler:
        def __init__(self, scale: float = 1.0) -> None:
            self.cur_scale = scale

    class DynamicLossScaler:
        def __init__(self, init_scale: float = 2.0**32, scale_factor: float = 2.0, scale_window: int = 1000) -> None:
            self.cur_scale, self.cur_iter, self.last_overflow_iter = init_scale, 12345, 12000
            self.scale_factor, self.scale_window = scale_factor, scale_window

    for cls in (LossScaler, DynamicLossScaler):
        cls.__module__, cls.__qualname__ = APEX_SCALER_MODULE, cls.__name__
        setattr(scaler_module, cls.__name__, cls)
    modules["apex"].fp16_utils = modules["apex.fp16_utils"]
    modules["apex.fp16_utils"].loss_scaler = scaler_module
    sys.modules.update(modules)
    try:
        yield scaler_module
    finally:
        for n in names:
            sys.modules.pop(n, None)


def fp16_model_state_dict(model: nn.Module, prefix: str = "module.network.") -> OrderedDict[str, torch.Tensor]:
    """The state dict of ``DDP(FP16Model(model))``: fp16 except BatchNorms with affine=True, keys prefixed."""
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, module in model.named_modules():
        keep = isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine
        own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
        for key, tensor in own:
            t = tensor.detach().clone()
            if t.is_floating_point() and not keep:
                t = t.half()
            out[f"{prefix}{name + '.' if name else ''}{key}"] = t
    order = list(model.state_dict())
    return OrderedDict((prefix + k, out[prefix + k]) for k in order)


def _sgd_state(model: nn.Module) -> dict[str, Any]:
    params = list(model.parameters())
    return {"state": {i: {"momentum_buffer": torch.zeros_like(p, dtype=torch.float32)} for i, p in
                      enumerate(params[:3])},
            "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 1e-4, "nesterov": True,
                              "params": list(range(len(params)))}]}


def save_aognet_v2_best(model: nn.Module, path: Path, arch: str = "resnet50", distributed: bool = True,
                        legacy: bool = False, dynamic_loss_scale: bool = True) -> dict[str, torch.Tensor]:
    """Write an AOGNet-v2 ``model_best.pth.tar``; return the state dict written (prefixed, fp16 pattern)."""
    sd = fp16_model_state_dict(model, "module.network." if distributed else "network.")
    fp32_master = [p.detach().float().clone() for p in model.parameters()][:4]
    write_aognet_v2_best(sd, path, arch, legacy, dynamic_loss_scale, _sgd_state(model), fp32_master)
    return sd


def write_aognet_v2_best(sd: dict[str, torch.Tensor], path: Path, arch: str = "resnet50", legacy: bool = False,
                         dynamic_loss_scale: bool = True, optimizer_state: dict[str, Any] | None = None,
                         fp32_master: list[torch.Tensor] | None = None) -> None:
    """Write ``sd`` (already prefixed and in fp16) in the ``model_best.pth.tar`` wrapper with apex optimizer state."""
    with fake_apex() as apex_scaler:
        scaler = apex_scaler.DynamicLossScaler() if dynamic_loss_scale else apex_scaler.LossScaler(128.0)
        optimizer = {
            "loss_scaler": scaler, "dynamic_loss_scale": dynamic_loss_scale, "overflow": False,
            "first_closure_call_this_step": True, "optimizer_state_dict": optimizer_state or {"state": {}},
            "fp32_from_fp16": [fp32_master or []],
        }
        state = {"epoch": 120, "arch": arch, "state_dict": sd, "best_prec1": 78.41, "optimizer": optimizer}
        torch.save(state, path, _use_new_zipfile_serialization=not legacy)


def _module_prefixed(model: nn.Module, prefix: str) -> OrderedDict[str, torch.Tensor]:
    return OrderedDict((prefix + k, v.detach().clone()) for k, v in model.state_dict().items())


def save_ivmcl_best(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """Write an iVMCL-Release ``model_best.pth``: ``{'state_dict'}`` with DDP ``module.`` keys, fp32."""
    sd = _module_prefixed(model, "module.")
    torch.save({"state_dict": sd}, path)
    return sd


def save_ivmcl_current(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """Write an iVMCL-Release resume file ``current.pth`` (weights under ``model``, amp O1 state)."""
    sd = _module_prefixed(model, "module.")
    state = {
        "amp_opt_level": "O1", "model": sd, "optimizer": _sgd_state(model), "epoch": 99, "best_acc1": 0.7712,
        "best_acc1_reallabels": 0.8401,
        "scheduler": {"base_lrs": [0.1], "last_epoch": 99, "_step_count": 100, "T_max": 100, "eta_min": 0},
        "amp": {"loss_scaler0": {"loss_scale": 65536.0, "unskipped": 17}},
    }
    torch.save(state, path)
    return sd


def save_ivmcl_released(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """Write a released (converted) iVMCL-Release classifier: ``{'state_dict'}`` with ``module.network.`` keys."""
    sd = _module_prefixed(model, "module.network.")
    torch.save({"state_dict": sd}, path)
    return sd


def save_data_parallel(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """Write ``nn.DataParallel(model).state_dict()`` as a bare file (``module.`` keys)."""
    sd = OrderedDict((k, v.detach().clone()) for k, v in nn.DataParallel(model).state_dict().items())
    torch.save(sd, path)
    return sd
