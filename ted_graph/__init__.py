"""ted-graph: Training-Free Experience Distillation (TED) for LangGraph.

A teacher model teaches a student model through the student's *prompt*: it compares the
student's attempts with its own reasoning and writes short, general experiences into a
Chroma library; the student retrieves the relevant ones for every new problem.
"""

from ted_graph.config import DistillConfig
from ted_graph.data import load_dataset
from ted_graph.distill import DistillResult, distill
from ted_graph.evaluate import EvalResult, evaluate
from ted_graph.experience import Experience
from ted_graph.graph import create_distillation_graph
from ted_graph.library import ExperienceLibrary
from ted_graph.models import load_chat_model
from ted_graph.types import Problem

__all__ = [
    "create_distillation_graph",
    "distill",
    "DistillResult",
    "DistillConfig",
    "ExperienceLibrary",
    "Experience",
    "Problem",
    "evaluate",
    "EvalResult",
    "load_dataset",
    "load_chat_model",
]
__version__ = "0.1.0"
