"""Grammars (llama.cpp GBNF) that make a local teacher's structured answers always parse.

A small teacher writing free JSON fails often: prose around it, a missing brace, the
prompt's ``<placeholder>`` echoed back, a lesson not of the form "When ..., ...". For
in-process llama.cpp models the writer's answer is decoded under :func:`operations_grammar`
instead: every answer is an operations object whose lessons come as two fields,
``situation`` and ``advice``, which :func:`lesson_text` assembles into "When <situation>,
<advice>." Angle brackets and line breaks cannot occur in a field, so placeholders cannot
be echoed. A situation cannot hold a comma: a "When ..." clause ends at its first one, and a
small teacher that runs on past it ("When reading a path, it is important to ...") puts
its advice into the situation, where the length limit then cuts it mid-phrase. Other
models get the same prompt and may answer the same fields (or ``text``);
:mod:`ted_graph.models.structured` validates both.
"""

from __future__ import annotations

import re

__all__ = ["operations_grammar", "lesson_text"]

_TEXT = '[^"\\\\<>\\n\\r]'  # a field's characters: no quote, backslash, <, > or line break
_SITUATION = '[^",\\\\<>\\n\\r]'  # the same, and no comma: the clause ends there
_LEADING_WORD = re.compile(r"^(?:when|if|whenever)\b[\s,]*", re.IGNORECASE)
_OWN_CLAUSE = re.compile(r"^(?:when|whenever)\s+([^,]+?),\s*(\S.*)$", re.IGNORECASE)


def lesson_text(situation: str, advice: str) -> str:
    """``"When <situation>, <advice>."`` from the two fields of a constrained lesson.

    >>> lesson_text("when counting listed objects,", "add the quantities")
    'When counting listed objects, add the quantities.'

    An advice that brings its own "when" clause is the whole lesson (a small teacher
    often repeats the situation there: "When adding, when adding numbers, ...").

    >>> lesson_text("adding numbers", "when adding numbers, keep a running total")
    'When adding numbers, keep a running total.'

    A last sentence that the length limit cut off is dropped:

    >>> lesson_text("adding numbers", "Keep a running total. This makes sure you do not m")
    'When adding numbers, keep a running total.'
    """
    situation = _LEADING_WORD.sub("", " ".join(situation.split())).rstrip(" ,.;:")
    advice = " ".join(advice.split()).strip(" ,")
    own = _OWN_CLAUSE.match(advice)
    if own:
        situation, advice = own.group(1), own.group(2)
    situation, advice = _lower_first(situation), _lower_first(advice)
    if advice and advice[-1] not in ".!?":
        ended = max(advice.rfind(". "), advice.rfind("! "), advice.rfind("? "))
        advice = advice[: ended + 1] if ended > 0 else advice + "."
    return f"When {situation}, {advice}"


def _lower_first(text: str) -> str:
    """``text`` with its first letter lowered, unless it starts an acronym ("BIG-bench")."""
    if text[:1].isupper() and not text[1:2].isupper():
        return text[0].lower() + text[1:]
    return text


def operations_grammar(max_operations: int, max_words: int, *, max_ids: int = 9) -> str:
    """GBNF for ``{"operations": [...]}`` with at most ``max_operations`` ADD, UPDATE or
    DELETE operations; ids are ``E1`` to ``E<max_ids>``; the two fields together hold at
    most about ``max_words`` words (six characters a word: a third for the situation, two
    thirds for the advice), free of ``<``, ``>``, quotes, backslashes and line breaks."""
    if max_operations < 1:
        return 'root ::= "{" ws "\\"operations\\":" ws "[]" ws "}" ws\nws ::= [ \\t\\n]{0,12}'
    situation, advice = max(24, 2 * max_words), max(40, 4 * max_words)
    more = f'(ws "," ws op){{0,{max_operations - 1}}}' if max_operations > 1 else ""
    return "\n".join(
        [
            f'root ::= "{{" ws "\\"operations\\":" ws "[" ws (op {more})? ws "]" ws "}}" ws',
            "op ::= add | update | delete",
            'add ::= "{" ws "\\"op\\":" ws "\\"ADD\\"," ws fields ws "}"',
            'update ::= "{" ws "\\"op\\":" ws "\\"UPDATE\\"," ws id "," ws fields ws "}"',
            'delete ::= "{" ws "\\"op\\":" ws "\\"DELETE\\"," ws id ws "}"',
            f'id ::= "\\"id\\":" ws "\\"E" [1-{min(max(max_ids, 1), 9)}] "\\""',
            'fields ::= "\\"situation\\":" ws situation "," ws "\\"advice\\":" ws advice',
            f'situation ::= "\\"" {_SITUATION}{{8,{situation}}} "\\""',
            f'advice ::= "\\"" {_TEXT}{{8,{advice}}} "\\""',
            "ws ::= [ \\t\\n]{0,12}",
        ]
    )
