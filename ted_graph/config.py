"""Run settings of a distillation: the graph's ``context_schema``.

Every default here is ted-graph's choice where the TED paper is silent (see
``../docs/algorithm.md``); all of them can be changed per run:
``graph.invoke(inputs, context=DistillConfig(n=3))`` or ``distill(..., n=3)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["DistillConfig"]


@dataclass(frozen=True)
class DistillConfig:
    """Settings of one distillation run.

    Attributes:
        epochs: passes over the training set.
        batch_size: problems per step (fanned out in parallel, then written together).
        n: student rollouts per problem.
        temperature: student sampling temperature for rollouts.
        k: experiences retrieved into each student prompt.
        examples: worked examples (the teacher's right solutions of the most similar other
            training problems, :mod:`ted_graph.library.examples`) put into each student prompt,
            rollouts, verification and validation alike; 0: lessons only. The teacher's
            right solutions are stored as worked examples either way.
        min_similarity: cosine cut-off below which an experience is not retrieved.
        max_experience_tokens: budget for the experience block of a prompt (estimated at
            four characters a token).
        student_max_tokens: new tokens per student rollout.
        teacher_max_tokens: new tokens per teacher answer (solution, critique, writing).
        teacher_repetition_penalty: repetition penalty of in-process teachers (greedy
            decoding of small models loops without one); remote teachers ignore it.
        skip_solved: skip the teacher when every rollout was right (nothing to learn).
        rationalize: when the teacher's own solution of a problem is wrong, show it the
            correct answer and ask for the steps that reach it (prompts/teacher_rationalize);
            a solution that still misses the answer is dropped, so a wrong solution is never
            shown as the method in the comparison. ``False``: its own solution, right or
            wrong, as in the paper.
        compare_rollouts: rollouts shown to the teacher in a comparison (0: all ``n``).
            Mixed results show a right one beside wrong ones (Training-Free GRPO's group
            contrast); when all are wrong, those with different answers come first. The
            teacher's prompt is the cost of a CPU run, so fewer, representative rollouts
            keep it short.
        max_operations: library operations the teacher may propose per critique.
        max_words: length limit of one experience; a proposal over twice as long is rejected
            when written, one over the limit is rewritten during compression.
        writer_retries: follow-up requests allowed when the teacher's JSON is invalid.
        group_critique: the step's wrong problems (at most this many) the teacher sees side
            by side, each with its answer and the student's, in one more comparison per step;
            its "When ..., ..." rules are taken as written and verified together on
            ``verify_set`` problems outside the group (:mod:`ted_graph.distillation.induction`); 0
            or 1:
            none.
        group_proposals: times the group comparison is asked, the group shown in another
            order each time (one batched request); verification keeps the best proposal.
        verify: try each valid ADD/UPDATE on the student before it is written, and keep it
            only if the student's share of right answers rises
            (:mod:`ted_graph.distillation.verification`);
            ``False`` is the paper's path, where every valid lesson enters.
        verify_problems: similar training problems a candidate is tried on, besides its own.
        verify_confirm: further similar training problems (the next nearest) a candidate
            that passed is tried on, in a second round; it is kept only if it wins more
            answers than it loses there too. The first round includes the problem the
            lesson was written from, so it flatters the candidate; 0 skips the second round.
        verify_temperature: the student's temperature when a candidate is tried. 0 (the
            default) decodes greedily, as evaluation and serving do: one answer per problem
            and condition, so a lift means answers that flipped. Above 0:
            ``verify_rollouts`` sampled rollouts per problem and condition.
        verify_rollouts: sampled student rollouts per problem and condition (when
            ``verify_temperature`` is above 0).
        verify_margin: least rise in the share of right answers (with the candidate minus
            without) for a candidate to be kept.
        verify_set: training problems a group comparison's rules are tried on together:
            the nearest to the group, outside it (the group was chosen for being wrong, so
            any change of answers flatters a candidate there).
        constrained_writing: decode an in-process (llama.cpp) teacher's experience writing
            under a grammar, so every answer is a valid operations object whose lessons
            are assembled from a situation and an advice (:mod:`ted_graph.models.grammar`).
        compress_every: compress every this many steps (and after the last step, and
            whenever the library exceeds ``max_size``); 0 disables the schedule, the size cap
            still applies.
        max_size: most active experiences kept after compression.
        merge_threshold: cosine similarity from which two experiences are merge candidates.
        min_uses: rollouts an experience must have been retrieved into before low utility
            can remove it.
        min_utility: utility under which a well-used experience is removed.
        seed: seeds the batch order and the student's sampling.
        validation: training problems held out as a validation split (0: none). The
            student is scored on them alone, with the library before the run and after every
            step, and the best-scoring version is kept (:mod:`ted_graph.distillation.selection`).
        generation_batch_size: sequences per forward pass for in-process transformers
            models; ``None`` (the default): what suits the model's backend and device
            (:func:`ted_graph.models.default_batch_size`).
    """

    epochs: int = 3
    batch_size: int = 8
    n: int = 5
    temperature: float = 0.7
    k: int = 5
    examples: int = 0
    min_similarity: float = 0.2
    max_experience_tokens: int = 400
    student_max_tokens: int = 320
    teacher_max_tokens: int = 384
    teacher_repetition_penalty: float = 1.1
    skip_solved: bool = True
    rationalize: bool = True
    compare_rollouts: int = 2
    max_operations: int = 3
    max_words: int = 50
    writer_retries: int = 1
    constrained_writing: bool = True
    group_critique: int = 8
    group_proposals: int = 3
    verify: bool = True
    verify_problems: int = 2
    verify_confirm: int = 4
    verify_temperature: float = 0.0
    verify_rollouts: int = 2
    verify_margin: float = 0.1
    verify_set: int = 16
    compress_every: int = 5
    max_size: int = 50
    merge_threshold: float = 0.85
    min_uses: int = 10
    min_utility: float = 0.35
    seed: int = 0
    validation: int = 0
    generation_batch_size: int | None = None

    def __post_init__(self) -> None:
        positive = (
            "epochs",
            "batch_size",
            "n",
            "student_max_tokens",
            "teacher_max_tokens",
            "max_words",
            "max_size",
            "verify_rollouts",
            "verify_set",
            "group_proposals",
        )
        if self.generation_batch_size is not None and self.generation_batch_size < 1:
            raise ValueError("DistillConfig.generation_batch_size must be at least 1")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"DistillConfig.{name} must be at least 1")
        for name in (
            "k",
            "examples",
            "compress_every",
            "max_operations",
            "compare_rollouts",
            "writer_retries",
            "min_uses",
            "max_experience_tokens",
            "verify_problems",
            "group_critique",
            "verify_confirm",
            "validation",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"DistillConfig.{name} must not be negative")
        for name in ("min_similarity", "merge_threshold", "min_utility", "verify_margin"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"DistillConfig.{name} must lie in [-1, 1]")
        if self.teacher_repetition_penalty <= 0:
            raise ValueError("DistillConfig.teacher_repetition_penalty must be positive")
        for name in ("temperature", "verify_temperature"):
            if getattr(self, name) < 0:
                raise ValueError(f"DistillConfig.{name} must not be negative")

    def updated(self, **changes: Any) -> DistillConfig:
        """A copy with ``changes`` applied; ``None`` values are ignored."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown DistillConfig field(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
