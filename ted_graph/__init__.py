"""ted-graph: Training-Free Experience Distillation (TED) for LangGraph.

A teacher model teaches a student model through the student's *prompt*: it compares the
student's attempts with its own reasoning and writes short, general experiences into a
Chroma library; the student retrieves the relevant ones for every new problem.
"""

from typing import Any

from ted_graph.agent import ExperienceState, create_experience_node, create_feedback_node
from ted_graph.config import DistillConfig
from ted_graph.data import load_dataset
from ted_graph.distill import DistillResult, distill
from ted_graph.evaluate import EvalResult, evaluate
from ted_graph.experience import Experience
from ted_graph.feedback import Feedback, FeedbackReport, learn_from_feedback
from ted_graph.graph import create_distillation_graph
from ted_graph.library import ExperienceLibrary
from ted_graph.models import load_chat_model
from ted_graph.retrieval import ImageRetrieval
from ted_graph.serving import create_serving_graph
from ted_graph.types import Problem

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
        from ted_graph.middleware import ExperienceMiddleware

        return ExperienceMiddleware
    raise AttributeError(f"module 'ted_graph' has no attribute {name!r}")
