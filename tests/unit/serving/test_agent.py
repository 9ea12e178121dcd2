"""The drop-in experience and feedback nodes inside a user's own messages graph."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph

from ted_graph.serving.nodes import (
    BLOCK_ID,
    ExperienceState,
    create_experience_node,
    create_feedback_node,
    experience_ids,
)

LESSON = "When counting objects of several kinds, add the quantities of every kind."


def agent_graph(library, model, teacher=None):
    graph = StateGraph(ExperienceState)
    graph.add_node("experiences", create_experience_node(library, min_similarity=0.1))
    graph.add_node("agent", lambda s: {"messages": [model.invoke(s["messages"])]})
    graph.add_node("feedback", create_feedback_node(library, teacher))
    graph.add_edge(START, "experiences")
    graph.add_edge("experiences", "agent")
    graph.add_edge("agent", "feedback")
    return graph.compile(checkpointer=InMemorySaver())


def test_the_model_sees_the_block_after_the_conversations_system_prompt(make_model, library):
    exp = library.add(LESSON)
    model = make_model(lambda prompt: "2 + 3 = 5. Answer: 5")
    seen = []
    model.rule = lambda prompt: seen.append(prompt) or "Answer: 5"
    app = agent_graph(library, model)
    cfg = {"configurable": {"thread_id": "1"}}
    out = app.invoke(
        {"messages": [SystemMessage("You are terse."), HumanMessage("2 apples, 3 pears: fruits?")]},
        cfg,
    )
    kinds = [(m.type, m.id == BLOCK_ID) for m in out["messages"]]
    assert kinds == [("system", False), ("system", True), ("human", False), ("ai", False)]
    assert LESSON in seen[0] and "<advice>" in seen[0]
    assert experience_ids(out["messages"]) == [exp.id]

    # a second turn replaces the block rather than adding another one
    out = app.invoke({"messages": [HumanMessage("And 4 plums and 1 fig: how many fruits?")]}, cfg)
    assert sum(m.id == BLOCK_ID for m in out["messages"]) == 1
    assert len(out["messages"]) == 6


def test_nothing_relevant_removes_the_block(make_model, library):
    library.add(LESSON)
    app = agent_graph(library, make_model(lambda p: "Answer: 5"))
    cfg = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [HumanMessage("2 apples and 3 pears: how many fruits?")]}, cfg)
    out = app.invoke({"messages": [HumanMessage("Translate 'chat' from French.")]}, cfg)
    assert experience_ids(out["messages"]) == []
    assert all(m.id != BLOCK_ID for m in out["messages"])


def test_feedback_updates_the_statistics_of_what_was_used_and_is_consumed(make_model, library):
    exp = library.add(LESSON)
    app = agent_graph(library, make_model(lambda p: "2 + 3 = 6. Answer: 6"))
    out = app.invoke(
        {
            "messages": [HumanMessage("2 apples and 3 pears: how many fruits?")],
            "feedback": {"answer": "5"},
        },
        {"configurable": {"thread_id": "1"}},
    )
    assert out["feedback"] is None
    record = library.get(exp.id)
    assert (record.retrieved, record.helpful, record.harmful) == (1, 0, 1)


def test_tool_calls_are_not_taken_for_the_answer(make_model, library):
    from ted_graph.serving.nodes import _last_answer

    messages = [
        HumanMessage("q"),
        AIMessage("", tool_calls=[{"name": "calc", "args": {}, "id": "c1"}]),
        AIMessage("Answer: 5"),
    ]
    assert _last_answer(messages) == "Answer: 5"
    assert _last_answer(messages[:2]) == ""
