"""Device, dtype and thread count for torch, chosen once for the whole hub.

CUDA runs in float16, Apple's MPS in float16, the CPU in float32 (bf16 did not help on our CPUs,
docs/models.md); the settings override either. torch is imported on first call, not at start-up.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from shared.settings import Settings


@dataclass(frozen=True)
class TorchRuntime:
    device: torch.device  # noqa: F821 (torch is imported lazily)
    dtype: torch.dtype  # noqa: F821

    def describe(self) -> str:
        return f"{self.device.type} / {str(self.dtype).removeprefix('torch.')}"


def torch_runtime(settings: Settings) -> TorchRuntime:
    return _runtime(settings.device, settings.dtype, settings.torch_threads)


@functools.cache
def _runtime(device_setting: str, dtype_setting: str, threads: int) -> TorchRuntime:
    import torch

    torch.set_num_threads(threads)
    if device_setting == "auto":
        if torch.cuda.is_available():
            device_setting = "cuda"
        elif torch.backends.mps.is_available():
            device_setting = "mps"
        else:
            device_setting = "cpu"
    if dtype_setting == "auto":
        dtype_setting = "float32" if device_setting == "cpu" else "float16"
    return TorchRuntime(torch.device(device_setting), getattr(torch, dtype_setting))


def answers_dtype(device) -> str | None:
    """The dtype for a model's greedy answers on `device`, where it is worth another copy of the
    weights: bfloat16 on a CPU whose oneDNN kernels compute it fast (AVX-512, native with AVX512-BF16
    or AMX: torch's own test), else None (the copy's dtype). A batch of 16 SmolLM2 answers' tokens:
    90 ms a pass against 164 ms in float32 (2-core Xeon VM, AMX). Not for shown probabilities:
    bfloat16 rounds scores to 8 bits (docs/models.md)."""
    import torch

    if torch.device(device).type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bfloat16"
    return None
