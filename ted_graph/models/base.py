"""The one generation interface that every model backend implements.

:func:`~ted_graph.models.generate` asks :func:`~ted_graph.models.backends.backend_for` for
the model's :class:`GenerationBackend` and hands it a :class:`GenerationRequest`; it never
looks at the model's type itself. A backend says how to run ``n`` completions of many
prompts (seeds, stop strings, token budget), how many sequences suit one pass, whether it
reads images, and how to count a prompt's and a completion's tokens for usage reports.

This module imports nothing else of ted-graph: backends build on it, not the reverse.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

__all__ = [
    "GenerationBackend",
    "GenerationRequest",
    "Prompts",
    "cut_at_stop",
    "has_images",
    "message_text",
    "to_chat_dicts",
]

Prompts = Sequence[Sequence[BaseMessage]]
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate for every prompt of one call.

    Attributes:
        n: completions per prompt.
        temperature: sampling temperature (0 = greedy). Remote models keep their own
            settings unless they declare a ``temperature`` field.
        max_tokens: new tokens per completion.
        seed: base seed; each prompt and each of its ``n`` copies derive their own from it,
            so rollouts are reproducible.
        stop: strings that end a completion: :func:`~ted_graph.models.generate` cuts every
            completion before the first one found; a backend may also hand them to the
            model, so that it stops early.
        batch_size: sequences per forward pass (``None``: the backend's default).
        max_concurrency: parallel requests, for models served over the network.
        repetition_penalty: above 1.0 discourages the loops of small greedy models.
        min_tokens: suppress end-of-sequence before this many new tokens (benchmarks).
        grammar: a llama.cpp GBNF grammar (root rule ``root``); backends that cannot
            constrain decoding ignore it (their output is validated as usual).

    Example:
        >>> GenerationRequest(n=4, temperature=0.7, seed=1).max_tokens
        256
    """

    n: int = 1
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int | None = None
    stop: tuple[str, ...] = ()
    batch_size: int | None = None
    max_concurrency: int = 8
    repetition_penalty: float = 1.0
    min_tokens: int = 0
    grammar: str | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("n must be at least 1")
        object.__setattr__(self, "stop", tuple(self.stop or ()))  # any sequence, or None


class GenerationBackend(ABC):
    """How one kind of chat model runs a :class:`GenerationRequest`.

    Backends are stateless: the model is passed to every method, so one backend object
    serves every model of its kind.
    """

    #: short name in logs and reports
    name: ClassVar[str] = "chat-model"
    #: whether prompts' image blocks reach the model (text-only backends drop them)
    reads_images: ClassVar[bool] = True
    #: whether :meth:`stream` takes every prompt at once and yields in completion order;
    #: otherwise callers stream :meth:`batch_size` prompts at a time through :meth:`generate`
    streams: ClassVar[bool] = False

    @abstractmethod
    def matches(self, model: BaseChatModel) -> bool:
        """Whether this backend runs ``model``."""

    @abstractmethod
    def generate(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> list[list[str]]:
        """``out[i][j]``: the ``j``-th of ``request.n`` completions of prompt ``i``."""

    def stream(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> Iterator[tuple[int, list[str]]]:
        """``(prompt index, completions)`` as they finish (backends with ``streams``)."""
        for i, texts in enumerate(self.generate(model, prompts, request)):
            yield i, texts

    def batch_size(self, model: BaseChatModel) -> int:
        """Sequences (or prompts in flight) per pass that suit the model: 8 by default."""
        return 8

    def count_prompt_tokens(
        self, model: BaseChatModel, messages: Sequence[BaseMessage]
    ) -> tuple[int, bool]:
        """Tokens of ``messages`` as the model reads them, and whether that is an estimate
        (four characters a token where the backend has no tokenizer)."""
        return sum((len(message_text(m)) + 3) // 4 for m in messages), True

    def count_text_tokens(self, model: BaseChatModel, text: str) -> tuple[int, bool]:
        """Tokens of a completion, and whether that is an estimate."""
        return (len(text) + 3) // 4, True


def message_text(message: BaseMessage) -> str:
    """The plain text of a message (text blocks joined).

    Example:
        >>> from langchain_core.messages import HumanMessage
        >>> message_text(HumanMessage([{"type": "text", "text": "a"}, "b"]))
        'ab'
    """
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def to_chat_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages to the ``{"role", "content"}`` dicts of chat templates."""
    return [{"role": _ROLES.get(m.type, "user"), "content": message_text(m)} for m in messages]


def has_images(prompts: Prompts) -> bool:
    """Whether any message of ``prompts`` carries an image block."""
    return any(
        isinstance(block, dict) and block.get("type") in ("image", "image_url")
        for prompt in prompts
        for message in prompt
        if not isinstance(message.content, str)
        for block in message.content
    )


def cut_at_stop(text: str, stop: Sequence[str] | None) -> str:
    """``text`` up to the first of the ``stop`` strings it contains.

    Example:
        >>> cut_at_stop("4\\nQuestion: next", ["\\nQuestion:"])
        '4'
    """
    if not stop:
        return text
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=len(text))
    return text[:cut]
