"""Student and teacher models: any LangChain chat model, or a spec for a local one.

* :func:`load_chat_model`: a model from a spec (embedded weights, a ``.gguf`` file, a
  hub id, an OpenAI-compatible server, a vision model) or a chat model unchanged.
* :mod:`~ted_graph.models.base`: the one generation interface, :class:`GenerationBackend`,
  that every backend implements; :mod:`~ted_graph.models.backends` picks a model's.
* The backends: :mod:`~ted_graph.models.llamacpp` (with its engine, sampling and CPU
  placement modules), :mod:`~ted_graph.models.local_generation` (transformers),
  :mod:`~ted_graph.models.vision`, :mod:`~ted_graph.models.chat` (any other chat model,
  remote endpoints from :mod:`~ted_graph.models.remote` included).
* :func:`generate`, :func:`generate_iter` (:mod:`~ted_graph.models.generation`), usage
  meters (:mod:`~ted_graph.models.usage`), and schema-validated structured output under
  llama.cpp grammars (:mod:`~ted_graph.models.structured`, :mod:`~ted_graph.models.grammar`).

May import: :mod:`ted_graph.data` (a vision prompt's images) and the shared modules at the
package's top; never the library, distillation, serving or the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from ted_graph.models.backends import backend_for, register_backend
from ted_graph.models.base import GenerationBackend, GenerationRequest
from ted_graph.models.generation import default_batch_size, generate, generate_iter, message_text
from ted_graph.models.llamacpp import (
    ChatLlamaCppBatched,
    llamacpp_available,
    load_llamacpp_chat_model,
)
from ted_graph.models.local import load_local_chat_model
from ted_graph.models.registry import PACKAGED, cache_dir, resolve_gguf, resolve_weights
from ted_graph.models.remote import is_remote_spec, load_remote_chat_model
from ted_graph.models.usage import (
    UsageMeter,
    count_prompt_tokens,
    count_text_tokens,
    model_name,
    track_usage,
)
from ted_graph.models.vision import TINY_VLM, load_vision_chat_model

__all__ = [
    "load_chat_model",
    "resolve_backend",
    "generate",
    "generate_iter",
    "GenerationBackend",
    "GenerationRequest",
    "backend_for",
    "register_backend",
    "default_batch_size",
    "message_text",
    "track_usage",
    "UsageMeter",
    "count_prompt_tokens",
    "count_text_tokens",
    "model_name",
    "load_local_chat_model",
    "load_llamacpp_chat_model",
    "load_remote_chat_model",
    "is_remote_spec",
    "is_vision_spec",
    "is_local_text_spec",
    "ChatLlamaCppBatched",
    "llamacpp_available",
    "resolve_weights",
    "resolve_gguf",
    "cache_dir",
    "PACKAGED",
    "DEFAULT_STUDENT",
    "DEFAULT_TEACHER",
    "FAST_STUDENT",
    "FAST_TEACHER",
]

#: The embedded default pair: both run offline from pip-installed weights. The 0.5B student
#: reasons under the student prompt and uses advice; the 1.5B teacher is clearly stronger
#: on the bundled tasks' training splits (benchmarks/pairs.py; BENCHMARKS.md).
DEFAULT_STUDENT = "qwen2.5-coder-0.5b"
DEFAULT_TEACHER = "qwen2.5-coder-1.5b"
#: The fastest pair, for tests of the machinery: SmolLM2-135M is too small to use advice.
FAST_STUDENT = "smollm2-135m"
FAST_TEACHER = "qwen2.5-coder-0.5b"


_TRANSFORMERS_ONLY = {"device", "dtype", "quantize"}
_BACKENDS = ("auto", "llamacpp", "transformers")


def load_chat_model(
    spec: str | BaseChatModel, *, backend: str = "auto", **kwargs: Any
) -> BaseChatModel:
    """A chat model from a spec; a ``BaseChatModel`` is returned unchanged.

    Local specs:

    * ``smollm2-135m``, ``qwen2.5-coder-0.5b``, ``qwen2.5-coder-1.5b``: weights that pip
      packages carry (see ``requirements/embedded-weights.txt``);
    * a local ``.gguf`` file or folder, a hub id ``org/name`` (transformers) or a hub file
      ``org/name/file.gguf`` (llama.cpp).

    Remote specs (OpenAI-compatible servers: vLLM, llama.cpp's server, TGI; needs the
    ``remote`` extra), see :mod:`ted_graph.models.remote`:

    * ``openai:<model>``, ``openai:<model>@<base_url>``, or a bare ``http(s)://.../v1``.

    Vision-language models run in-process with transformers (:mod:`ted_graph.models.vision`):
    ``vision:<folder or hub id>``, or ``tiny-vlm`` (a tiny random-weight Idefics3 that
    proves the image path offline).

    Two in-process backends run local specs; a prefix or ``backend=`` picks one:

    * ``llamacpp:<spec>``: llama.cpp on the quantized GGUF weights with continuous
      batching (:class:`ChatLlamaCppBatched`), the fast path on CPUs. Needs the
      ``llamacpp`` extra. Keyword arguments go to :func:`load_llamacpp_chat_model`
      (``n_parallel``, ``seq_tokens``, ``n_threads``, ``quantization``, ``placement``,
      ``max_new_tokens``).
    * ``transformers:<spec>`` (or ``hf:<spec>``): transformers, for GPUs and as the
      reference. Keyword arguments go to :func:`load_local_chat_model` (``device``,
      ``dtype``, ``quantize``, ``max_new_tokens``).

    ``auto`` (no prefix) takes llama.cpp for packaged names and ``.gguf`` files when
    llama-cpp-python is installed and no transformers-only argument (``device``,
    ``dtype``, ``quantize``) is given; transformers otherwise.

    Example:
        >>> from langchain_core.language_models import GenericFakeChatModel
        >>> fake = GenericFakeChatModel(messages=iter(["hi"]))
        >>> load_chat_model(fake) is fake
        True
    """
    if isinstance(spec, BaseChatModel):
        return spec
    if isinstance(spec, str) and is_remote_spec(spec.strip()):
        return load_remote_chat_model(spec.strip(), **kwargs)
    if isinstance(spec, str) and is_vision_spec(spec.strip()):
        return load_vision_chat_model(spec.strip(), **kwargs)
    backend, spec = resolve_backend(spec, backend=backend, **kwargs)
    if backend == "llamacpp":
        return load_llamacpp_chat_model(spec, **kwargs)
    return load_local_chat_model(spec, **kwargs)


def is_vision_spec(spec: str) -> bool:
    """Whether ``spec`` names an in-process vision model (``tiny-vlm``, ``vision:...``)."""
    return spec == TINY_VLM or spec.startswith("vision:")


def is_local_text_spec(spec: str) -> bool:
    """Whether ``spec`` runs on the llama.cpp or transformers text backends (and so has a
    :func:`resolve_backend`), rather than on a server or the vision backend."""
    return not (is_remote_spec(spec) or is_vision_spec(spec))


def resolve_backend(spec: str, *, backend: str = "auto", **kwargs: Any) -> tuple[str, str]:
    """``(backend, spec without its prefix)`` that :func:`load_chat_model` would use.

    Example:
        >>> resolve_backend("transformers:smollm2-135m")
        ('transformers', 'smollm2-135m')
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a model spec must be a non-empty string, got {spec!r}")
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    spec = spec.strip()
    prefix, _, rest = spec.partition(":")
    if rest and "/" not in prefix and not Path(spec).exists():
        chosen = {"llamacpp": "llamacpp", "transformers": "transformers", "hf": "transformers"}
        if prefix not in chosen:
            raise ValueError(
                f"model spec {spec!r}: unknown provider {prefix!r}. Use 'openai:<model>' or "
                "'openai:<model>@<base_url>' for an OpenAI-compatible server (vLLM, "
                "llama.cpp's server), 'llamacpp:' or 'transformers:' for local weights, or "
                "pass any LangChain chat model object."
            )
        backend, spec = chosen[prefix], rest
    if backend == "auto":
        backend = "llamacpp" if _prefers_llamacpp(spec, kwargs) else "transformers"
    return backend, spec


def _prefers_llamacpp(spec: str, kwargs: dict[str, Any]) -> bool:
    if _TRANSFORMERS_ONLY & set(kwargs) or not llamacpp_available():
        return False
    return spec.lower() in PACKAGED or spec.lower().endswith(".gguf")
