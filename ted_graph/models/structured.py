"""Schema-validated JSON from chat models, with bounded repair and retry.

Small local teachers often wrap JSON in prose or code fences, leave trailing commas or
write ``'single quotes'``. :func:`parse_json_object` tolerates those; anything still
invalid is sent back once more with the validation error (``repair_json`` prompt), up to
``retries`` times. A result that never validates is returned as ``None`` with the reason,
and nothing half-parsed is ever used.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ted_graph.models.grammar import lesson_text
from ted_graph.prompts import render

__all__ = [
    "Operation",
    "OperationBatch",
    "MergeDecision",
    "Rewrite",
    "parse_json_object",
    "generate_structured",
    "generate_structured_batch",
]

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class Operation(BaseModel):
    """One proposed change to the experience library.

    A lesson is its ``text``, or two fields that are assembled into it: ``situation`` and
    ``advice`` become "When <situation>, <advice>." (:func:`ted_graph.models.grammar.lesson_text`).
    """

    op: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    id: str | None = None
    text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _assemble(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value.get("text"):
            situation, advice = value.get("situation"), value.get("advice")
            if isinstance(situation, str) and isinstance(advice, str):
                if situation.strip() and advice.strip():
                    value = {**value, "text": lesson_text(situation, advice)}
        return value

    @field_validator("op", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("text")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return " ".join(value.split()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fields_for_op(self) -> Operation:
        if self.op in ("ADD", "UPDATE") and not self.text:
            raise ValueError(f"{self.op} needs a non-empty 'text'")
        if self.op in ("UPDATE", "DELETE") and not self.id:
            raise ValueError(f"{self.op} needs the 'id' of an existing experience")
        return self


class OperationBatch(BaseModel):
    operations: list[Operation]  # required: ``{}`` is a reply that ignored the format


class MergeDecision(BaseModel):
    merge: bool
    text: str | None = None

    @model_validator(mode="after")
    def _text_if_merged(self) -> MergeDecision:
        if self.merge and not (self.text and self.text.strip()):
            raise ValueError("a merge needs the merged 'text'")
        return self


class Rewrite(BaseModel):
    text: str = Field(min_length=1)


_EXAMPLES: dict[type[BaseModel], str] = {
    OperationBatch: '{"operations": [{"op": "ADD", "situation": "...", "advice": "..."}]}',
    MergeDecision: '{"merge": true, "text": "When ..., ..."} or {"merge": false}',
    Rewrite: '{"text": "When ..., ..."}',
}


_MAX_CHARS = 200_000  # far beyond any teacher reply; bounds the work on hostile output
_MAX_STARTS = 32


def _balanced_objects(text: str) -> Iterator[str]:
    """The balanced ``{...}`` spans of ``text`` (string-aware), first to last.

    At most ``_MAX_STARTS`` opening braces are tried, so an answer full of unbalanced
    braces costs linear, not quadratic, time.
    """
    text = text[:_MAX_CHARS]
    start, tries = text.find("{"), 0
    while start != -1 and tries < _MAX_STARTS:
        tries += 1
        depth, in_str, escape, end = 0, False, False, -1
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if escape:
                    escape = False
                elif ch == "\\":
                    escape = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        if end >= 0:
            yield text[start : end + 1]
            start = text.find("{", end + 1)
        else:
            start = text.find("{", start + 1)


def _load_object(candidate: str) -> dict[str, Any]:
    """``candidate`` as a JSON object, repairing trailing commas and single quotes."""
    attempts = [candidate, re.sub(r",\s*([}\]])", r"\1", candidate)]  # trailing commas
    attempts.append(re.sub(r"'", '"', attempts[-1]))  # single quotes
    last_error: Exception | None = None
    for attempt in attempts:
        try:
            value = json.loads(attempt)
        except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: deep nesting
            last_error = (
                exc if isinstance(exc, json.JSONDecodeError) else ValueError("nested too deeply")
            )
            continue
        if isinstance(value, dict):
            return value
        last_error = ValueError("the JSON is not an object")
    raise ValueError(f"invalid JSON: {last_error}")


def parse_json_object(text: str, required: Sequence[str] = ()) -> dict[str, Any]:
    """Parse the first JSON object in a model response that has every ``required`` key
    (else the first JSON object), repairing common slips: code fences, trailing commas,
    single quotes.

    Raises:
        ValueError: no JSON object could be recovered.
    """
    cleaned = re.sub(r"```(?:json)?", "", text)
    first: dict[str, Any] | None = None
    error: Exception | None = None
    for candidate in _balanced_objects(cleaned):
        try:
            value = _load_object(candidate)
        except ValueError as exc:
            error = error or exc
            continue
        if all(key in value for key in required):
            return value
        first = value if first is None else first
    if first is not None:
        return first  # validation says what it lacks
    if error is None:
        raise ValueError("no JSON object found in the answer")
    raise error


def generate_structured(
    generate: Callable[[list[BaseMessage]], str],
    messages: list[BaseMessage],
    schema: type[M],
    *,
    retries: int = 1,
) -> tuple[M | None, str | None]:
    """Ask for JSON matching ``schema``; repair and retry at most ``retries`` times.

    Args:
        generate: a function that sends messages to the model and returns its text.
        messages: the request.
        schema: the pydantic model the answer must validate against.
        retries: how many follow-up requests may be spent on invalid answers.

    Returns:
        ``(value, None)`` on success, ``(None, reason)`` when every try failed.
    """
    return generate_structured_batch(
        lambda batch: [generate(m) for m in batch], [messages], schema, retries=retries
    )[0]


def generate_structured_batch(
    generate_many: Callable[[list[list[BaseMessage]]], list[str]],
    requests: list[list[BaseMessage]],
    schema: type[M],
    *,
    retries: int = 1,
) -> list[tuple[M | None, str | None]]:
    """:func:`generate_structured` for several requests, sent to the model together.

    Each round sends every request that is still invalid in one ``generate_many`` call, so
    an in-process model answers them in one batched forward pass.
    """
    results: list[tuple[M | None, str | None]] = [(None, "no answer")] * len(requests)
    required = [name for name, field in schema.model_fields.items() if field.is_required()]
    histories = [list(r) for r in requests]
    todo = list(range(len(requests)))
    for attempt in range(retries + 1):
        if not todo:
            break
        texts = generate_many([histories[i] for i in todo])
        still: list[int] = []
        for i, text in zip(todo, texts, strict=True):
            try:
                value = parse_json_object(text, required)
                results[i] = (schema.model_validate(value), None)
                continue
            except (ValueError, ValidationError) as exc:
                reason = _short_error(exc)
            logger.debug("structured answer rejected (try %d): %s", attempt + 1, reason)
            results[i] = (None, reason)
            histories[i] = [
                *requests[i],
                AIMessage(content=text),
                HumanMessage(
                    content=render("repair_json", error=reason, example=_EXAMPLES.get(schema, "{}"))
                ),
            ]
            still.append(i)
        todo = still
    return results


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return str(exc)
