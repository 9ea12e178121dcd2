"""The writer's grammar and the lessons assembled from its fields."""

import json

import pytest

from ted_graph.models.grammar import lesson_text, operations_grammar
from ted_graph.models.structured import OperationBatch, parse_json_object


@pytest.mark.parametrize(
    "situation, advice, text",
    [
        ("counting listed objects", "Add the quantities",
         "When counting listed objects, add the quantities."),
        ("When a date is given,", "convert it to days first.",
         "When a date is given, convert it to days first."),
        ("If BIG-bench asks for a letter", "answer with the option's letter",
         "When BIG-bench asks for a letter, answer with the option's letter."),
        ("counting vegetables", "when counting vegetables, count each type separately",
         "When counting vegetables, count each type separately."),
        ("counting instruments as objects", "When counting objects, check each item's kind",
         "When counting objects, check each item's kind."),
        ("a total is asked", "if unsure, add again",
         "When a total is asked, if unsure, add again."),
    ],
)  # fmt: skip
def test_lessons_are_assembled_as_when_situation_advice(situation, advice, text):
    assert lesson_text(situation, advice) == text


def test_operations_with_fields_validate_into_lesson_texts():
    reply = json.dumps({"operations": [
        {"op": "ADD", "situation": "counting listed objects", "advice": "add the quantities"},
        {"op": "UPDATE", "id": "E1", "situation": "dates are compared", "advice": "use days"},
    ]})  # fmt: skip
    batch = OperationBatch.model_validate(parse_json_object(reply, ["operations"]))
    assert [o.text for o in batch.operations] == [
        "When counting listed objects, add the quantities.",
        "When dates are compared, use days.",
    ]


def test_the_grammar_bounds_operations_and_forbids_placeholders():
    grammar = operations_grammar(3, 50)
    assert '(ws "," ws op){0,2}' in grammar  # at most three operations
    assert 'situation ::= "\\"" [^",\\\\<>\\n\\r]{8,100} "\\""' in grammar  # a clause: no comma
    assert 'advice ::= "\\"" [^"\\\\<>\\n\\r]{8,200} "\\""' in grammar  # no <placeholder>
    assert '"\\"E" [1-9] "\\""' in grammar
    assert "op" not in operations_grammar(0, 50).split("root ::=")[1].split("\n")[0].replace(
        "operations", ""
    )
