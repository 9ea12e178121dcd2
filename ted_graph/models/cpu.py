"""One lock for the CPU's cores, shared by every in-process backend.

A student and a teacher that compute at once on the same cores only slow each other down:
llama.cpp's worker threads spin while they wait, and a torch forward pass beside them ran
six times slower on this project's 2-core machine (a transformers evaluation of 40
problems: 100 s alone, 642 s beside a llama.cpp benchmark). So the llama.cpp engine holds
:data:`CPU_COMPUTE` for each of its prefill and decode steps, and a transformers model on
the CPU for each forward pass (:func:`take_turns`): they interleave step by step.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["CPU_COMPUTE", "take_turns"]

CPU_COMPUTE = threading.Lock()


def take_turns(hf_model: Any) -> Any:
    """Make every forward pass of a CPU torch module hold :data:`CPU_COMPUTE`; returns it.

    Only the outermost module's passes take the lock (the hooks sit on ``hf_model``
    itself), and it is released even when a pass raises.
    """
    if getattr(hf_model, "_ted_takes_turns", False):
        return hf_model

    def take(module: Any, args: Any) -> None:  # a pre-hook returning a value replaces args
        CPU_COMPUTE.acquire()

    def give_back(module: Any, args: Any, output: Any) -> None:
        CPU_COMPUTE.release()

    hf_model.register_forward_pre_hook(take)
    hf_model.register_forward_hook(give_back, always_call=True)
    hf_model._ted_takes_turns = True
    return hf_model
