"""How in-process backends share the CPU: one lock, and one thread for OpenMP work.

**Taking turns.** A student and a teacher that compute at once on the same cores only slow
each other down: llama.cpp's worker threads spin while they wait, and a torch forward pass
beside them ran six times slower on this project's 2-core machine (a transformers
evaluation of 40 problems: 100 s alone, 642 s beside a llama.cpp benchmark). So the
llama.cpp engine holds :data:`CPU_COMPUTE` for each of its prefill and decode steps, and a
transformers model on the CPU for each forward pass (:func:`take_turns`): they interleave
step by step.

**One OpenMP master.** llama.cpp (as pip builds it) and torch share one OpenMP runtime,
libgomp, which keeps a pool of worker threads for every thread that starts parallel work.
Once the process holds more of those threads than it has cores, libgomp shortens its spin
waits to 100 iterations (``do_spin`` in libgomp's ``config/linux/wait.h``), and ggml,
which meets every operation of a forward pass at an OpenMP barrier, then sleeps and wakes
through the kernel hundreds of times per token. A second llama.cpp engine (the teacher
beside the student) or one torch embedding call is enough on a 2-core machine: the
student's one-sequence decode fell from 45 to 33 tok/s. So every llama.cpp forward pass
and every CPU embedding pass runs on one thread, :func:`on_compute_thread`: the process
then holds one pool whatever the number of models, and ggml's barriers spin as they should.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["CPU_COMPUTE", "on_compute_thread", "take_turns"]

T = TypeVar("T")

CPU_COMPUTE = threading.Lock()

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
_THREAD_NAME = "ted-cpu-compute"


def on_compute_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the process's one compute thread and return its result.

    The thread starts on first use. Calls from the compute thread itself run directly,
    and an exception raised by ``fn`` is raised here.

    Example:
        >>> import threading
        >>> on_compute_thread(lambda: threading.current_thread().name).startswith(_THREAD_NAME)
        True
    """
    global _EXECUTOR
    if threading.current_thread().name.startswith(_THREAD_NAME):
        return fn(*args)
    if _EXECUTOR is None:
        with _EXECUTOR_LOCK:
            if _EXECUTOR is None:
                _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD_NAME)
    return _EXECUTOR.submit(fn, *args).result()


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
