"""Serving and integration: TED inside the agents and servers users already run.

* :mod:`~ted_graph.serving.nodes`: drop-in nodes for an existing LangGraph agent
  (:func:`create_experience_node`, :func:`create_feedback_node`).
* :mod:`~ted_graph.serving.middleware`: ``ExperienceMiddleware`` for
  ``langchain.agents.create_agent`` (needs the ``agents`` extra; imported on demand).
* :mod:`~ted_graph.serving.graph`: :func:`create_serving_graph`, retrieval-augmented
  answering, and batch serving of a questions file.
* :mod:`~ted_graph.serving.feedback`: online learning from feedback on served answers.
* :mod:`~ted_graph.serving.environment`: models and a library named by environment
  variables, for LangGraph Server's graphs.

May import: :mod:`ted_graph.distillation`, :mod:`ted_graph.library`,
:mod:`ted_graph.models`, :mod:`ted_graph.data` and the shared modules; never the CLI.
"""

from ted_graph.serving.feedback import Feedback, FeedbackReport, learn_from_feedback
from ted_graph.serving.graph import ServingState, create_serving_graph, read_questions, serve_batch
from ted_graph.serving.nodes import ExperienceState, create_experience_node, create_feedback_node

__all__ = [
    "create_serving_graph",
    "ServingState",
    "serve_batch",
    "read_questions",
    "create_experience_node",
    "create_feedback_node",
    "ExperienceState",
    "Feedback",
    "FeedbackReport",
    "learn_from_feedback",
]
