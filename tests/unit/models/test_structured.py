import pytest
from langchain_core.messages import HumanMessage

from ted_graph.models.structured import (
    MergeDecision,
    OperationBatch,
    generate_structured,
    parse_json_object,
)


@pytest.mark.parametrize(
    "text",
    [
        '{"operations": []}',
        'Sure! ```json\n{"operations": [],}\n``` hope it helps',
        "{'operations': []}",
        'prefix {"a": "brace } in string"} {"operations": []}',
    ],
)
def test_parse_json_object_recovers_common_slips(text):
    assert parse_json_object(text, ["operations"]) == {"operations": []}


def test_parse_json_object_takes_the_first_object_without_required_keys():
    text = 'prefix {"a": "brace } in string"} {"operations": []}'
    assert parse_json_object(text) == {"a": "brace } in string"}
    assert parse_json_object('{"a": 1} and {"b": 2}', ["operations"]) == {"a": 1}


def test_parse_json_object_fails_clearly():
    with pytest.raises(ValueError, match="no JSON object"):
        parse_json_object("I cannot answer")


def test_operation_validation():
    batch = OperationBatch.model_validate(
        {"operations": [{"op": "add", "text": "When  x,\n y."}, {"op": "DELETE", "id": "E1"}]}
    )
    assert batch.operations[0].op == "ADD" and batch.operations[0].text == "When x, y."
    with pytest.raises(ValueError):
        OperationBatch.model_validate({"operations": [{"op": "UPDATE", "text": "no id"}]})
    with pytest.raises(ValueError):
        OperationBatch.model_validate({"operations": [{"op": "ADD"}]})
    with pytest.raises(ValueError):
        MergeDecision.model_validate({"merge": True})


def test_generate_structured_repairs_then_succeeds():
    replies = iter(["not json at all", '{"operations": [{"op": "ADD", "text": "When a, b."}]}'])
    seen = []

    def ask(messages):
        seen.append(messages)
        return next(replies)

    value, reason = generate_structured(ask, [HumanMessage("write")], OperationBatch, retries=1)
    assert reason is None and value.operations[0].text == "When a, b."
    assert len(seen) == 2 and "could not be used" in seen[1][-1].content


def test_generate_structured_gives_up_after_bounded_retries():
    calls = []

    def ask(messages):
        calls.append(1)
        return '{"operations": [{"op": "UPDATE", "text": "x"}]}'

    value, reason = generate_structured(ask, [HumanMessage("write")], OperationBatch, retries=2)
    assert value is None and "id" in reason
    assert len(calls) == 3
