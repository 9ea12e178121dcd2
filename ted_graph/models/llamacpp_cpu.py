"""Where llama.cpp keeps a model's weights on this CPU, chosen so that no CPU crashes it.

llama.cpp's CPU backend can hold weights in *extra* buffer types that its fast kernels
read: ``AMX`` (Intel Sapphire Rapids and later, in a build that detected AMX) and
``CPU_REPACK`` (weights interleaved for the AVX2/AVX-512 or NEON kernels). For each weight
it takes the first that accepts it: AMX, then REPACK, then the plain CPU buffer.

On AMX machines the AMX path of the llama.cpp that llama-cpp-python 0.3.36 vendors
segfaults at the first decode of every packaged model (measured on this project's
machines; reported upstream as ggml-org/llama.cpp#20824, with a proposed fix in #26954 not
merged). pip builds llama.cpp natively, so every AMX machine gets that path. So
:func:`placement_params` offers these placements:

* ``"auto"`` (the default): ``"repack"`` in a build with AMX, ``"llama.cpp"`` elsewhere;
* ``"llama.cpp"``: llama.cpp's own choice (AMX first): crashes on AMX machines;
* ``"repack"``: AMX skipped, REPACK kept: the weights the REPACK kernels take (on x86:
  ``Q4_0``, ``Q4_K``, ``IQ4_NL``, ``MXFP4`` matrices with rows in multiples of 8, and
  ``Q2_K`` with AVX-512) are placed in ``CPU_REPACK`` by name, everything else in the plain
  CPU buffer;
* ``"plain"``: no extra buffer types at all (``use_extra_bufts = False``).

On an AMD EPYC with AVX-512 and no AMX, ``"plain"`` prefilled the 1.5B teacher's ``Q4_K``
weights about 1.4x faster than llama.cpp's repacked copy (147 against 100 tok/s through
the public API) but decoded one to four sequences 0.74-0.78x as fast as
``llama-batched-bench``, and a distillation step took as long
(``benchmarks/breakdown.py``: 500 s against 474-513 s), so ``"auto"`` keeps llama.cpp's own
choice there; ``"plain"`` is the option for prefill-heavy work on such a CPU.

The ``TED_LLAMACPP_WEIGHTS`` environment variable, or a chat model's ``placement`` field,
sets the placement.
``benchmarks/inference.py --placements`` measures them against each other.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Placement",
    "PLACEMENTS",
    "build_features",
    "placement_params",
    "resolve_placement",
    "repack_tensors",
]

logger = logging.getLogger(__name__)

Placement = Literal["auto", "llama.cpp", "repack", "plain"]
PLACEMENTS: tuple[str, ...] = ("auto", "llama.cpp", "repack", "plain")
ENV_VAR = "TED_LLAMACPP_WEIGHTS"

# ggml_type values (ggml.h) of the types ggml-cpu/repack.cpp repacks on x86
_Q4_0, _Q2_K, _Q4_K, _IQ4_NL, _MXFP4 = 2, 10, 12, 20, 39
_GGML_BACKEND_DEVICE_TYPE_CPU = 0


def build_features(lc: Any) -> dict[str, bool]:
    """The CPU features the installed llama.cpp was compiled for (``AVX2``, ``AMX_INT8``...),
    from ``llama_print_system_info()``."""
    info = lc.llama_print_system_info()
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    return {name: value == "1" for name, value in re.findall(r"(\w+) = (\d)", text)}


def resolve_placement(lc: Any, placement: str | None = None) -> str:
    """``placement`` (default: ``$TED_LLAMACPP_WEIGHTS``, else ``"auto"``) made concrete."""
    chosen = placement or os.environ.get(ENV_VAR) or "auto"
    if chosen not in PLACEMENTS:
        raise ValueError(
            f"llama.cpp weight placement must be one of {', '.join(PLACEMENTS)}; got {chosen!r}"
            + (f" (from ${ENV_VAR})" if placement is None else "")
        )
    if chosen == "auto":
        return "repack" if build_features(lc).get("AMX_INT8") else "llama.cpp"
    if chosen == "llama.cpp" and build_features(lc).get("AMX_INT8"):
        logger.warning(
            "llama.cpp's AMX kernels are enabled; on this llama.cpp they crash some AMX "
            "machines (unset %s to avoid them)",
            ENV_VAR,
        )
    return chosen


def repack_tensors(model_path: str | os.PathLike[str], features: dict[str, bool]) -> list[str]:
    """Names of the weights llama.cpp's REPACK kernels take on an x86 build with
    ``features`` (mirrors ``ggml_repack_get_optimal_repack_type`` in ggml-cpu/repack.cpp).

    Only matrices read by matrix products qualify: the token embedding, read by row
    lookups, never does.
    """
    from gguf import GGUFReader

    if not features.get("AVX2"):
        return []
    kinds = {_Q4_0, _Q4_K, _IQ4_NL, _MXFP4} | ({_Q2_K} if features.get("AVX512") else set())
    names = []
    for tensor in GGUFReader(str(model_path)).tensors:
        shape = [int(d) for d in tensor.shape]  # ggml order: ne[0] (the row length) first
        if (
            int(tensor.tensor_type) in kinds
            and len([d for d in shape if d != 1]) == 2
            and len(shape) >= 2
            and shape[1] % 8 == 0
            and not tensor.name.startswith("token_embd")
        ):
            names.append(tensor.name)
    return names


def _patterns(names: list[str]) -> list[str]:
    """Anchored regexes that match exactly ``names``, one per tensor kind (a few, not one
    per tensor: llama.cpp compiles every pattern for every tensor it loads)."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    loose = []
    for name in names:
        match = re.fullmatch(r"blk\.(\d+)\.(.+)", name)
        if match:
            by_kind[match.group(2)].append(match.group(1))
        else:
            loose.append(name)
    patterns = [
        rf"^blk\.({'|'.join(layers)})\.{re.escape(kind)}$" for kind, layers in by_kind.items()
    ]
    return patterns + [rf"^{re.escape(name)}$" for name in loose]


class _Override(ctypes.Structure):
    """``struct llama_model_tensor_buft_override`` (llama.h)."""

    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


class _Ggml:
    """The few ggml-backend functions needed to find the ``CPU_REPACK`` buffer type."""

    def __init__(self, lc: Any) -> None:
        lib = Path(lc.__file__).parent / "lib"
        found = {p.name: p for p in lib.glob("libggml*")} if lib.is_dir() else {}
        base = next((found[n] for n in found if n.startswith("libggml-base")), None)
        core = next((found[n] for n in found if re.match(r"libggml\.(so|dylib|dll)", n)), None)
        if base is None or core is None:
            raise OSError(f"ggml libraries not found in {lib}")
        self.base = ctypes.CDLL(str(base))
        self.core = ctypes.CDLL(str(core))
        self.core.ggml_backend_dev_by_type.restype = ctypes.c_void_p
        self.core.ggml_backend_dev_by_type.argtypes = [ctypes.c_int]
        self.base.ggml_backend_dev_backend_reg.restype = ctypes.c_void_p
        self.base.ggml_backend_dev_backend_reg.argtypes = [ctypes.c_void_p]
        self.base.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
        self.base.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.base.ggml_backend_buft_name.restype = ctypes.c_char_p
        self.base.ggml_backend_buft_name.argtypes = [ctypes.c_void_p]

    def extra_buffer_type(self, name: str) -> int | None:
        """The CPU device's extra buffer type called ``name``, or ``None``."""
        device = self.core.ggml_backend_dev_by_type(_GGML_BACKEND_DEVICE_TYPE_CPU)
        if not device:
            return None
        reg = self.base.ggml_backend_dev_backend_reg(device)
        address = self.base.ggml_backend_reg_get_proc_address(
            reg, b"ggml_backend_dev_get_extra_bufts"
        )
        if not address:
            return None
        get_extra = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(address)
        bufts = get_extra(device)
        i = 0
        while bufts and bufts[i]:
            if self.base.ggml_backend_buft_name(bufts[i]) == name.encode():
                return int(bufts[i])
            i += 1
        return None


def placement_params(lc: Any, mparams: Any, model_path: str, placement: str | None = None) -> Any:
    """Set ``mparams`` (``llama_model_params``) for ``placement``; returns what must stay
    alive until the model is loaded (the override array), and logs the choice.

    ``"repack"`` falls back to ``"plain"`` when the build has no ``CPU_REPACK`` buffer
    type or no weight qualifies.
    """
    concrete = placement in ("llama.cpp", "repack", "plain")
    chosen = placement if concrete else resolve_placement(lc, placement)
    if chosen == "llama.cpp":
        return None
    mparams.use_extra_bufts = False
    if chosen == "plain":
        logger.info("llama.cpp weights of %s: plain CPU buffers", model_path)
        return None
    names = repack_tensors(model_path, build_features(lc))
    try:
        buft = _Ggml(lc).extra_buffer_type("CPU_REPACK") if names else None
    except (OSError, AttributeError) as exc:  # an unusual build: no repacking, no crash
        logger.info("llama.cpp's CPU_REPACK buffer type is not reachable (%s)", exc)
        buft = None
    if buft is None:
        logger.info("llama.cpp weights of %s: plain CPU buffers (nothing to repack)", model_path)
        return None
    patterns = _patterns(names)
    limit = int(lc.llama_max_tensor_buft_overrides()) - 1  # one slot for the terminator
    if len(patterns) > limit:
        logger.info("llama.cpp weights of %s: plain (too many tensor kinds)", model_path)
        return None
    keep = [p.encode() for p in patterns]
    array = (_Override * (len(keep) + 1))()  # zero-filled: the last entry ends the list
    for slot, pattern in zip(array, keep, strict=False):
        slot.pattern = pattern
        slot.buft = buft
    mparams.tensor_buft_overrides = ctypes.cast(array, ctypes.c_void_p)
    logger.info(
        "llama.cpp weights of %s: %d matrices repacked, AMX skipped", model_path, len(names)
    )
    return keep, array


def patch_llama_cpp_loader() -> None:
    """Make every model llama-cpp-python loads in this process (its ``Llama`` class, its
    server) use :func:`placement_params`. Idempotent. Nothing calls it on import: the
    server launcher (:mod:`ted_graph.models.llamacpp_server`) does."""
    import llama_cpp.llama_cpp as raw

    original = raw.llama_model_load_from_file
    if getattr(original, "_ted_placement", False):
        return

    def load(path_model: bytes, params: Any) -> Any:
        keep = placement_params(raw, params, path_model.decode("utf-8"))
        model = original(path_model, params)
        del keep  # llama.cpp reads the overrides only while loading
        return model

    load._ted_placement = True  # type: ignore[attr-defined]
    raw.llama_model_load_from_file = load
