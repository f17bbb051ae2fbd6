"""Heavy model calls: one concurrency group for the hub, and ZeroGPU on Hugging Face Spaces.

On a ZeroGPU Space, functions that use the GPU must be wrapped in `@spaces.GPU` from the PyPI
package `spaces`. Our own top-level package is also called `spaces` (one folder per demo) and
shadows it, so `load_zerogpu()` loads the PyPI package explicitly and lets it share the name:
the package becomes `spaces`, with our demo folders appended to its search path, so
`spaces.GPU` and `spaces.seg2sat` both resolve. It must run before anything imports our demos.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Function = TypeVar("Function", bound=Callable)

# Every event that runs a big model on the accelerator joins this group, so the settings'
# gpu_concurrency bounds them all together instead of each demo on its own.
GPU_CONCURRENCY_ID = "gpu"

OUR_DEMOS_FOLDER = Path(__file__).resolve().parent.parent / "spaces"


def on_zerogpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


def load_zerogpu() -> None:
    """Import the PyPI `spaces` package under its own name, merged with our demo folders."""
    if not on_zerogpu() or "spaces" in sys.modules and hasattr(sys.modules["spaces"], "GPU"):
        return
    if "spaces" in sys.modules:
        raise RuntimeError("load_zerogpu() must run before any demo is imported")
    init_file = Path(str(importlib.metadata.distribution("spaces").locate_file("spaces/__init__.py")))
    spec = importlib.util.spec_from_file_location(
        "spaces", init_file, submodule_search_locations=[str(init_file.parent), str(OUR_DEMOS_FOLDER)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["spaces"] = module
    spec.loader.exec_module(module)


def gpu_task(duration: int = 60) -> Callable[[Function], Function]:
    """`@spaces.GPU(duration=...)` on ZeroGPU, nothing elsewhere."""

    def decorate(function: Function) -> Function:
        if not on_zerogpu():
            return function
        import spaces

        return spaces.GPU(duration=duration)(function)

    return decorate
