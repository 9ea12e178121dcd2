"""What a valid problem row is: one record checked and turned into a :class:`Problem`.

Every error is a :class:`DatasetError` that names the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
import string
from typing import Any

from ted_graph.data.images import ImageError, load_image
from ted_graph.types import Problem

__all__ = ["DatasetError", "validate_problem"]


class DatasetError(ValueError):
    """A dataset could not be read; the message names the file, row and field."""


def validate_problem(row: Any, where: str, *, require_answer: bool = True) -> Problem:
    """Check one raw record and turn it into a :class:`Problem`.

    Args:
        row: the decoded record.
        where: location used in error messages, e.g. ``"data.jsonl:12"``.
        require_answer: ``False`` accepts questions without an ``answer`` (serving); their
            ``answer`` is then ``""``.

    Raises:
        DatasetError: naming ``where`` and the offending field.
    """
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(row).__name__}")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"{where}: field 'question' is missing or empty")
    if "answer" not in row or row["answer"] is None:
        if require_answer:
            raise DatasetError(f"{where}: field 'answer' is missing")
        row = {**row, "answer": ""}
    answer = row["answer"]
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float)):
        raise DatasetError(f"{where}: field 'answer' must be a string or a number")
    answer = str(answer).strip()
    if not answer and require_answer:
        raise DatasetError(f"{where}: field 'answer' is empty")
    problem: Problem = {"id": "", "question": question.strip(), "answer": answer}
    choices = row.get("choices")
    if choices is not None:
        if (
            not isinstance(choices, list)
            or len(choices) < 2
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            raise DatasetError(f"{where}: field 'choices' must be a list of 2+ non-empty strings")
        if len(choices) > len(string.ascii_uppercase):
            raise DatasetError(f"{where}: field 'choices' has more than 26 options")
        letters = string.ascii_uppercase[: len(choices)]
        if answer and answer not in choices and answer.strip("()").upper() not in letters:
            raise DatasetError(f"{where}: field 'answer' is neither one of 'choices' nor a letter")
        if answer and answer not in choices:
            answer = choices[letters.index(answer.strip("()").upper())]
            problem["answer"] = answer
        problem["choices"] = [c.strip() for c in choices]
    accepted = row.get("accepted")
    if accepted is not None:
        if not isinstance(accepted, list) or not all(
            isinstance(a, (str, int, float)) and not isinstance(a, bool) and str(a).strip()
            for a in accepted
        ):
            raise DatasetError(f"{where}: field 'accepted' must be a list of non-empty answers")
        if choices is not None and any(str(a).strip() not in problem["choices"] for a in accepted):
            raise DatasetError(f"{where}: field 'accepted' lists an answer not in 'choices'")
        problem["accepted"] = [str(a).strip() for a in accepted]
    images = row.get("images")
    if images is not None:
        if not isinstance(images, list):
            raise DatasetError(f"{where}: field 'images' must be a list")
        for n, ref in enumerate(images):
            try:
                load_image(ref)  # fail now, naming the item, not mid-run
            except ImageError as exc:
                raise DatasetError(f"{where}: field 'images'[{n}]: {exc}") from exc
        problem["images"] = images
    metadata = row.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise DatasetError(f"{where}: field 'metadata' must be an object")
        problem["metadata"] = metadata
    id_ = row.get("id")
    if id_ is None:
        digest = hashlib.sha256(json.dumps([question, answer]).encode()).hexdigest()[:10]
        id_ = f"p-{digest}"
    if not isinstance(id_, (str, int)) or not str(id_).strip():
        raise DatasetError(f"{where}: field 'id' must be a non-empty string")
    problem["id"] = str(id_).strip()
    return problem
