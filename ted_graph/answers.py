"""Answer extraction and scoring.

Handles multiple choice (letters, ``(B)``, option text), numbers (``\\boxed{}``,
``Answer: N``, ``The answer is N``, thousands separators, units, number words) and exact
strings. Extraction prefers an explicit final-answer marker; a response of one line of at
most three words is the answer itself (a task that says "answer with a single word" gets
one); otherwise it falls back to the last number in the text, because reasoning models
restate intermediate values first.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence

from ted_graph import gym
from ted_graph.types import Problem

__all__ = ["extract_answer", "grade", "is_correct", "normalize", "letter", "register_grader"]

Grader = Callable[[str | None, Problem], float]
#: Graders named by a problem's ``metadata["grader"]``: each scores a prediction from 0.0 to
#: 1.0, and only 1.0 counts as right (reasoning-gym's scorers give partial credit).
_GRADERS: dict[str, Grader] = {}

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
}
_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_MARKERS = re.compile(
    r"(?:final\s+answer(?:\s+is)?|the\s+answer\s+is|answer\s*(?:is)?)\s*[:=]?\s*(.+)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_LETTER = re.compile(r"^\(?([A-Z])\)?(?:[.):\s]|$)")


def letter(index: int) -> str:
    """The option letter for a 0-based choice index: 0 -> ``A``."""
    return string.ascii_uppercase[index]


def normalize(text: str) -> str:
    """Lower-case, strip LaTeX wrappers, punctuation at the ends and surrounding quotes."""
    text = text.strip()
    text = re.sub(r"\\text\{([^}]*)\}", r"\1", text)
    text = text.replace("$", "").replace("**", "")
    text = text.strip().strip(" .,:;!\"'`*").strip()
    return re.sub(r"\s+", " ", text).lower()


def _to_number(text: str) -> float | None:
    text = normalize(text)
    if "=" in text:  # "4 + 2 + 1 = 7": the result is after the last equals sign
        text = text.rsplit("=", 1)[1].strip()
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    match = _NUMBER.search(text)
    if not match:
        return None
    try:
        return float(match.group(0).replace(",", ""))
    except ValueError:
        return None


def _candidate(text: str) -> str | None:
    """The final-answer span of a response, or ``None`` if it names none."""
    boxed = _BOXED.findall(text)
    if boxed:
        return boxed[-1].strip()
    marked = _MARKERS.findall(text)
    if marked:
        # the span after the last marker, up to the end of its line
        lines = marked[-1].strip().splitlines()  # empty after a bare "Answer:"
        return lines[0].strip() or None if lines else None
    return None


def _match_choice(span: str, choices: Sequence[str]) -> str | None:
    """Map a span to one of ``choices`` (returned as the choice text)."""
    m = _LETTER.match(span.strip().strip("*").strip())
    if m:
        idx = string.ascii_uppercase.index(m.group(1))
        if idx < len(choices):
            return choices[idx]
    return _match_option_text(span, choices)


def _match_option_text(span: str, choices: Sequence[str]) -> str | None:
    """The option whose text ``span`` is, or the only (or most specific) one it mentions."""
    norm_span = normalize(span)
    normed = [normalize(c) for c in choices]
    if norm_span in normed:
        return choices[normed.index(norm_span)]
    # the span mentions exactly one option's text
    hits = [c for c, n in zip(choices, normed, strict=True) if n and n in norm_span]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:  # prefer the longest (most specific) option text
        return max(hits, key=len)
    return None


def extract_answer(text: str, choices: Sequence[str] | None = None) -> str | None:
    """Extract the final answer from a model response.

    Args:
        text: the model's full response.
        choices: the options of a multiple-choice problem, if any; the result is then
            the text of the chosen option.

    Returns:
        The answer as a string, or ``None`` when the response gives none.

    Example:
        >>> extract_answer("so 3 + 4 = 7. The answer is: 7")
        '7'
        >>> extract_answer("Answer: (B)", ["red", "blue"])
        'blue'
        >>> extract_answer("So the blue one.", ["red", "blue"])
        'blue'
    """
    if not text or not text.strip():
        return None
    span = _candidate(text)
    if choices:
        if span is not None:
            chosen = _match_choice(span, choices)
            if chosen is not None:
                return chosen
        # fall back to the last "(X)" option label in the text
        labels = re.findall(r"\(([A-Z])\)", text)
        for label in reversed(labels):
            idx = string.ascii_uppercase.index(label)
            if idx < len(choices):
                return choices[idx]
        # then to an option stated in the last line ("Amy finished second."): small models
        # often answer with the option's text and no marker
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return _match_option_text(lines[-1], choices) if lines else None
    if span is not None:
        return span.strip().rstrip(".")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0].split()) <= 3:
        # a bare answer, as a task that says "answer with a single word" gets it
        return lines[0].strip("*").strip().rstrip(".")
    numbers = _NUMBER.findall(text)
    if numbers:
        return numbers[-1].replace(",", "")
    return None


def register_grader(name: str, grader: Grader) -> None:
    """Grade problems whose ``metadata["grader"]`` is ``name`` with ``grader(prediction,
    problem)``, a score from 0.0 to 1.0 of which only 1.0 counts as right.

    ``"reasoning-gym"`` is built in (:mod:`ted_graph.gym`: each task's own scorer).
    """
    if name == gym.GRADER:
        raise ValueError(f"{name!r} is built in")
    _GRADERS[name] = grader


def grade(prediction: str | None, problem: Problem) -> bool:
    """Whether ``prediction`` is right for ``problem``: by the grader its metadata names
    (a reasoning-gym task's own scorer), else its ``answer`` or one it also ``accepted``."""
    name = (problem.get("metadata") or {}).get("grader")
    if name is not None:
        grader = gym.score if name == gym.GRADER else _GRADERS.get(name)
        if grader is None:
            raise ValueError(
                f"problem {problem['id']!r} names grader {name!r}, which is not registered "
                "(ted_graph.answers.register_grader)"
            )
        return grader(prediction, problem) >= 1.0
    choices = problem.get("choices")
    truths = [problem["answer"], *problem.get("accepted", [])]
    return any(is_correct(prediction, truth, choices) for truth in truths)


def is_correct(prediction: str | None, answer: str, choices: Sequence[str] | None = None) -> bool:
    """Whether ``prediction`` matches the ground-truth ``answer``.

    Multiple choice compares option text (``answer`` may also be a letter); numbers
    compare numerically (``"1,000 apples"`` equals ``"1000"``, ``"three"`` equals ``"3"``);
    anything else compares normalised strings.

    Example:
        >>> is_correct("1,000 apples", "1000")
        True
    """
    if prediction is None:
        return False
    if choices:
        truth = _match_choice(answer, choices) or answer
        return normalize(prediction) == normalize(truth)
    if normalize(prediction) == normalize(answer):
        return True
    pred_num, ans_num = _to_number(prediction), _to_number(answer)
    if pred_num is not None and ans_num is not None:
        return abs(pred_num - ans_num) <= 1e-6 * max(1.0, abs(ans_num))
    return False
