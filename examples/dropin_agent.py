"""Add TED to an agent you already have, two ways, and feed back what you learn.

1. ``langchain.agents.create_agent``: one extra argument, ``middleware=[ted]``.
2. Your own LangGraph ``StateGraph`` with a ``messages`` state: put the experience node
   in front of your model node, and the feedback node after it.

    python examples/dropin_agent.py

Runs offline on the embedded student with the hand-written example experiences; point
``--library`` at a distilled library to use yours.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from langchain.agents import create_agent
from langgraph.graph import START, StateGraph

from ted_graph import (
    ExperienceLibrary,
    ExperienceMiddleware,
    ExperienceState,
    create_experience_node,
    create_feedback_node,
    load_chat_model,
)
from ted_graph.models import DEFAULT_STUDENT

HERE = Path(__file__).parent
QUESTION = "I have a violin, two pianos, a flute and three drums. How many instruments do I have?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=None, help="a library directory")
    parser.add_argument("--student", default=DEFAULT_STUDENT)
    args = parser.parse_args()
    library = ExperienceLibrary(args.library) if args.library else ExperienceLibrary.in_memory()
    if args.library is None:
        library.import_json(HERE / "experiences.json")  # written by hand for this example
    model = load_chat_model(args.student)

    # 1. an existing create_agent agent, with TED as middleware
    ted = ExperienceMiddleware(library)
    agent = create_agent(
        model, tools=[], system_prompt="You are a careful assistant.", middleware=[ted]
    )
    state = agent.invoke({"messages": [("user", QUESTION)]})
    print("[middleware] answer:", state["messages"][-1].content.strip()[:200])
    print("[middleware] experiences used:", [e["text"] for e in state["ted_experiences"]])
    report = ted.learn(state, {"answer": "7"})
    print(f"[middleware] feedback: correct={report.correct}, recorded={report.recorded}")

    # 2. an existing StateGraph agent, with TED's nodes around the model call
    def call_model(state: ExperienceState) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(ExperienceState)
    graph.add_node("experiences", create_experience_node(library))  # + TED
    graph.add_node("agent", call_model)
    graph.add_node("feedback", create_feedback_node(library))  # + TED
    graph.add_edge(START, "experiences")
    graph.add_edge("experiences", "agent")
    graph.add_edge("agent", "feedback")
    app = graph.compile()
    out = app.invoke({"messages": [("user", QUESTION)], "feedback": {"answer": "7"}})
    print("[nodes] answer:", out["messages"][-1].content.strip()[:200])
    print("[nodes] message kinds:", [m.type for m in out["messages"]])
    for exp in library.all():
        if exp.retrieved:
            print(f"[library] {exp.id}: retrieved {exp.retrieved}, helpful {exp.helpful}")


if __name__ == "__main__":
    main()
