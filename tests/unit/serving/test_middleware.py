"""ExperienceMiddleware inside langchain's create_agent."""

import pytest

pytest.importorskip("langchain.agents", reason="the middleware needs the `agents` extra")

from langchain.agents import create_agent  # noqa: E402

from ted_graph.serving.middleware import ExperienceMiddleware  # noqa: E402

LESSON = "When counting objects of several kinds, add the quantities of every kind."


def test_experiences_reach_every_model_call_and_not_the_history(make_model, library):
    exp = library.add(LESSON)
    model = make_model(lambda prompt: "2 + 3 = 6. Answer: 6")
    ted = ExperienceMiddleware(library, min_similarity=0.1)
    agent = create_agent(model, tools=[], system_prompt="You are terse.", middleware=[ted])
    state = agent.invoke({"messages": [("user", "2 apples and 3 pears: how many fruits?")]})
    assert "You are terse." in model.calls[0] and LESSON in model.calls[0]
    assert [e["id"] for e in state["ted_experiences"]] == [exp.id]
    assert all(LESSON not in str(m.content) for m in state["messages"])
    report = ted.learn(state, {"answer": "5"})
    assert report.correct is False and library.get(exp.id).harmful == 1
