"""What a lesson must look like before it may enter the library.

Its form: "When <situation>, <advice>", at most ``max_words`` words, not about the student
(:func:`form_problem`). Its generality: no answer of the problem it came from, no
instruction phrases of the prompts, no reference to "this problem" or one image
(:func:`generality_problem`). Writing, compression and the group comparison all apply it.
"""

from __future__ import annotations

import functools
import re

from ted_graph.answers import normalize
from ted_graph.library.safety import unsafe_reason
from ted_graph.prompts import prompt_dirs, render
from ted_graph.types import Problem

__all__ = ["form_problem", "generality_problem", "same_words_key"]

_LESSON_FORM = re.compile(r"^(?:when|if|before|after|while|for)\b[^,]{3,},\s*\S", re.IGNORECASE)
_ABOUT_STUDENT = re.compile(r"\bthe student'?s?\b", re.IGNORECASE)
_THIS_ONE = re.compile(
    r"\b(?:in|for) this (?:case|problem|question|example|instance)\b", re.IGNORECASE
)
_ONE_IMAGE = re.compile(
    r"\b(?:this|that|the above|the given|the shown)\s+(?:image|picture|figure|diagram|photo)"
    r"|\b(?:shown|pictured|depicted|drawn)\s+(?:above|here|in this)\b",
    re.IGNORECASE,
)


def form_problem(text: str, max_words: int) -> str | None:
    """Why ``text`` is not a well-formed, safe lesson, or ``None`` (see
    :func:`generality_problem` and :func:`ted_graph.library.safety.unsafe_reason`). Every text a
    model proposes (written, merged or rewritten) passes here."""
    words = text.split()
    if len(words) > 2 * max_words:
        return f"too long ({len(words)} words)"
    if len(words) < 6 or "..." in text or "\u2026" in text or re.search(r"<[^>]*>", text):
        return "a placeholder or fragment"
    if not _LESSON_FORM.match(text.strip()):
        return "not of the form 'When <situation>, <advice>'"
    if _ABOUT_STUDENT.search(text):
        return "describes the student instead of advising the solver"
    words = same_words_key(text)
    phrases = _instruction_phrases(tuple(prompt_dirs()))
    if any(" ".join(words[i : i + 6]) in phrases for i in range(len(words) - 5)):
        return "copies the writing instructions"
    return unsafe_reason(text)


def same_words_key(text: str) -> list[str]:
    """The lowercase words of ``text``: two texts with the same key say the same thing
    (case and punctuation aside)."""
    return re.findall(r"\w+", text.lower())


@functools.lru_cache(maxsize=4)
def _instruction_phrases(dirs: tuple[object, ...]) -> frozenset[str]:
    """Every run of six words in the writing prompt's own text (a small teacher sometimes
    writes "instead of adding a near-duplicate of one of them, improve it with UPDATE" as
    its advice). ``dirs`` keys the cache on the template folders in use."""
    text = render(
        "write_experiences",
        critique="",
        has_images=True,
        experiences=[{"text": ""}],
        max_operations=3,
        max_words=50,
    )
    words = same_words_key(text)
    return frozenset(" ".join(words[i : i + 6]) for i in range(len(words) - 5))


_NUMERAL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")


def _numerals(text: str) -> set[str]:
    """The numbers written in digits in ``text``, without leading zeros ("05" -> "5")."""
    return {m.group().lstrip("0") or "0" for m in _NUMERAL.finditer(text)}


def generality_problem(
    text: str, problem: Problem, max_words: int, *, labels: bool = False
) -> str | None:
    """Why ``text`` is not a general experience for ``problem``, or ``None`` if it is.

    Rejects texts that are not a lesson of the form "When <situation>, <advice>" (also
    "If/Before/After/While/For ..., ..."), placeholders ("When ..., ..."), texts about "the
    student" rather than advice to the solver, texts that copy six consecutive words of the
    writing prompt's instructions, texts under six or over twice ``max_words``
    words, texts that state the problem's answer (answers of four or more characters) or an
    answer key ("the answer is B"), texts that name a number (in digits, other than 0
    and 1) written in the question or the answer ("…an incorrect total of 10 fruits"),
    texts that point at one image ("this figure", "shown above") or at this one problem
    ("In this case, the path has 4 line segments"), and texts that copy
    eight or more consecutive words of the question.

    ``labels=True`` lets a text name the answer when it is one of the problem's listed
    choices: a rule drawn from several problems tells their labels apart ("a path that
    returns to its start is never a line"), which names a label, not one problem's answer.
    """
    why = form_problem(text, max_words)
    if why:
        return why
    norm_text = normalize(text)
    choices = {normalize(c) for c in problem.get("choices") or []} if labels else set()
    for truth in [problem["answer"], *problem.get("accepted", [])]:
        answer = normalize(truth)
        if answer in choices:
            continue
        if len(answer) >= 4 and answer in norm_text:
            return "states this problem's answer"
    if _ONE_IMAGE.search(text):
        return "describes one image"
    if _THIS_ONE.search(text):
        return "speaks of this one problem"
    q = normalize(problem["question"]).split()
    for i in range(len(q) - 7):
        if " ".join(q[i : i + 8]) in norm_text:
            return "copies the question"
    truths = [problem["answer"], *problem.get("accepted", [])]
    specific = _numerals(" ".join([problem["question"], *map(str, truths)])) - {"0", "1"}
    named = sorted(_numerals(text) & specific, key=float)
    if named:
        return f"names this problem's numbers ({', '.join(named)})"
    return None
