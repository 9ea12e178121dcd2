"""ted-graph: Training-Free Experience Distillation (TED) for LangGraph.

A teacher model teaches a student model through the student's *prompt*: it compares the
student's attempts with its own reasoning and writes short, general experiences into a
Chroma library; the student retrieves the relevant ones for every new problem.
"""

from typing import Any

from ted_graph import _moved
from ted_graph.config import DistillConfig
from ted_graph.data import load_dataset
from ted_graph.distillation import (
    DistillResult,
    EvalResult,
    create_distillation_graph,
    distill,
    evaluate,
)
from ted_graph.library import Experience, ExperienceLibrary, ImageRetrieval
from ted_graph.models import load_chat_model
from ted_graph.serving import (
    ExperienceState,
    Feedback,
    FeedbackReport,
    create_experience_node,
    create_feedback_node,
    create_serving_graph,
    learn_from_feedback,
)
from ted_graph.types import Problem

_moved.install()  # the import paths from before the package layout

__all__ = [
    "create_distillation_graph",
    "create_serving_graph",
    "create_experience_node",
    "create_feedback_node",
    "ExperienceState",
    "ExperienceMiddleware",
    "learn_from_feedback",
    "Feedback",
    "FeedbackReport",
    "distill",
    "DistillResult",
    "DistillConfig",
    "ExperienceLibrary",
    "ImageRetrieval",
    "Experience",
    "Problem",
    "evaluate",
    "EvalResult",
    "load_dataset",
    "load_chat_model",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the middleware needs `langchain` (the `agents` extra): imported only when asked for
    if name == "ExperienceMiddleware":
        from ted_graph.serving.middleware import ExperienceMiddleware

        return ExperienceMiddleware
    raise AttributeError(f"module 'ted_graph' has no attribute {name!r}")
