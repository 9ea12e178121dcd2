"""Models behind an OpenAI-compatible HTTP endpoint, named by a spec like the local ones.

vLLM (``vllm serve``), llama.cpp's server (``llama-server`` or
``python -m llama_cpp.server``), Text Generation Inference and Hugging Face Inference
Endpoints all speak the OpenAI chat-completions API, so one client covers them
(``langchain-openai``, the ``remote`` extra):

* ``openai:<model>``: ``$OPENAI_BASE_URL`` (default api.openai.com) and ``$OPENAI_API_KEY``;
* ``openai:<model>@<base_url>``, e.g. ``openai:Qwen/Qwen2.5-7B-Instruct@http://gpu:8000/v1``;
* ``<base_url>`` alone, e.g. ``http://localhost:8080/v1``: the server's first model.

A local server needs no key; ``EMPTY`` is sent when ``$OPENAI_API_KEY`` is unset.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from langchain_core.language_models import BaseChatModel

__all__ = ["is_remote_spec", "load_remote_chat_model", "parse_remote_spec"]


def is_remote_spec(spec: str) -> bool:
    """Whether ``spec`` names an endpoint rather than local weights."""
    return spec.startswith(("openai:", "http://", "https://"))


def parse_remote_spec(spec: str) -> tuple[str | None, str | None]:
    """``(model, base_url)`` of a remote spec; either may be ``None`` (found later).

    Example:
        >>> parse_remote_spec("openai:qwen@http://localhost:8080/v1")
        ('qwen', 'http://localhost:8080/v1')
        >>> parse_remote_spec("http://localhost:8080/v1")
        (None, 'http://localhost:8080/v1')
    """
    if spec.startswith(("http://", "https://")):
        return None, spec.rstrip("/")
    rest = spec.removeprefix("openai:")
    model, sep, url = rest.rpartition("@")
    if not sep or not url.startswith(("http://", "https://")):
        model, url = rest, ""
    if not model:
        raise ValueError(f"model spec {spec!r}: no model name before '@'")
    return model, (url.rstrip("/") or None)


def _first_model(base_url: str, api_key: str, timeout: float) -> str:
    request = urllib.request.Request(
        f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            models = json.load(response).get("data") or []
    except (OSError, ValueError) as exc:
        raise ConnectionError(
            f"{base_url}/models: cannot list the server's models ({exc})"
        ) from exc
    if not models:
        raise ValueError(f"{base_url}: the server lists no models")
    return str(models[0]["id"])


def load_remote_chat_model(spec: str, **kwargs: Any) -> BaseChatModel:
    """A ``ChatOpenAI`` client for a remote spec (see the module docs).

    Keyword arguments go to ``ChatOpenAI`` (``api_key``, ``timeout``, ``max_retries``,
    ``temperature``, ...). Sampling settings of each call (temperature, max tokens, seed,
    ``n``) are set by ted-graph per request.

    Raises:
        ImportError: ``langchain-openai`` is not installed.
        ConnectionError: a bare URL's server cannot be asked for its models.
    """
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ImportError(
            f"model spec {spec!r} needs langchain-openai: pip install 'ted-graph[remote]'"
        ) from exc
    model, base_url = parse_remote_spec(spec)
    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    api_key = kwargs.pop("api_key", None) or os.environ.get("OPENAI_API_KEY") or "EMPTY"
    timeout = kwargs.setdefault("timeout", 600)
    if model is None:
        assert base_url is not None
        model = _first_model(base_url, api_key, float(timeout))
    return ChatOpenAI(model=model, base_url=base_url, api_key=api_key, **kwargs)
