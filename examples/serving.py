"""Retrieval-augmented serving: the student answers with the experiences it retrieves, and
feedback on each answer updates those experiences' statistics.

    python examples/serving.py                          # hand-written example experiences
    python examples/serving.py --library runs/quickstart/library   # a distilled library

Runs offline on the embedded student. Each question is one LangGraph thread: the first run
answers, a second run on the same thread sends the ground truth as feedback.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

from ted_graph import ExperienceLibrary, create_serving_graph, load_chat_model, load_dataset
from ted_graph.library import format_table
from ted_graph.models import DEFAULT_STUDENT

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=None, help="a library directory")
    parser.add_argument("--task", default="bigbench:object_counting")
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--student", default=DEFAULT_STUDENT)
    args = parser.parse_args()

    if args.library is not None:
        library = ExperienceLibrary(args.library)
    else:
        library = ExperienceLibrary.in_memory()
        library.import_json(HERE / "experiences.json")  # written by hand for this example
    print(f"[library] {len(library)} active experiences")

    student = load_chat_model(args.student)
    app = create_serving_graph(student, library).compile(checkpointer=InMemorySaver())
    right = 0
    for problem in load_dataset(args.task, limit=args.questions):
        thread = {"configurable": {"thread_id": problem["id"]}}
        out = app.invoke({"question": problem["question"]}, thread)
        used = ", ".join(e["id"] for e in out["experiences"]) or "none"
        print(f"[answer] {problem['id']}: {out['answer']!r} (experiences: {used})")
        graded = app.invoke({"feedback": {"answer": problem["answer"]}}, thread)
        correct = graded["feedback_report"]["correct"]
        right += bool(correct)
        print(f"[feedback] truth {problem['answer']!r}: {'right' if correct else 'wrong'}")
    print(f"[done] {right}/{args.questions} right; the experiences' statistics now:")
    print(format_table(library.all()))


if __name__ == "__main__":
    main()
