"""The distillation loop: TED's steps as a LangGraph graph, and the one-call ``distill()``.

* :mod:`~ted_graph.distillation.graph`: :func:`create_distillation_graph`, one step per
  batch of problems (fan-out with ``Send``, then compression and validation).
* :mod:`~ted_graph.distillation.nodes`: the per-problem subgraph (student rollouts,
  teacher solution, comparison).
* :mod:`~ted_graph.distillation.curation`: experience writing and compression.
* :mod:`~ted_graph.distillation.induction`: rules induced from several wrong problems.
* :mod:`~ted_graph.distillation.verification`: lessons verified before they enter.
* :mod:`~ted_graph.distillation.selection`: do no harm, keep the library's best version.
* :mod:`~ted_graph.distillation.run`: :func:`distill` and :class:`DistillResult`.
* :mod:`~ted_graph.distillation.evaluation`: :func:`evaluate`, accuracy on a dataset.

May import: :mod:`ted_graph.library`, :mod:`ted_graph.models`, :mod:`ted_graph.data` and the
shared modules at the package's top; never serving or the CLI.
"""

from ted_graph.distillation.evaluation import EvalResult, evaluate
from ted_graph.distillation.graph import DistillState, create_distillation_graph
from ted_graph.distillation.run import CheckpointMismatch, DistillResult, distill

__all__ = [
    "create_distillation_graph",
    "DistillState",
    "distill",
    "DistillResult",
    "CheckpointMismatch",
    "evaluate",
    "EvalResult",
]
