from langchain_core.messages import HumanMessage

from ted_graph.models import generate, track_usage
from ted_graph.models.usage import busy_seconds


def test_busy_seconds_is_the_union_of_intervals():
    assert busy_seconds([]) == 0
    assert busy_seconds([(0, 2), (1, 3), (5, 6)]) == 4
    assert busy_seconds([(0, 10), (2, 3)]) == 10


def test_generate_reports_to_active_meters_only(make_model):
    model = make_model(lambda prompt: "Answer: 12345678")  # 16 characters: 4 tokens
    prompts = [[HumanMessage(content="x" * 40)], [HumanMessage(content="y" * 8)]]
    generate(model, prompts)  # no meter: nothing recorded anywhere
    with track_usage() as meter:
        generate(model, prompts, n=2)
    usage = meter.to_dict()
    (name,) = usage
    assert usage[name]["calls"] == 1 and usage[name]["prompts"] == 2
    # a fake model has no tokenizer: four characters a token, flagged as an estimate
    assert usage[name]["prompt_tokens"] == 10 + 2
    assert usage[name]["completion_tokens"] == 4 * 4
    assert usage[name]["estimated"] is True
    with track_usage() as later:
        pass
    assert later.to_dict() == {} and meter.total_tokens() == 28
