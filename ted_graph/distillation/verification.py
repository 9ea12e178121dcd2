"""Lessons verified before they enter the library (ted-graph's step beyond the paper).

A teacher's lesson can be wrong ("count each type only once") or noise. Before a proposed
ADD or UPDATE is written, the student solves the lesson's source problem and up to
``verify_problems`` similar training problems (nearest by embedding) twice: with the
experiences retrieval gives it now, and with the experiences retrieval would give it once
the candidate is in the library (for an UPDATE: with the text it replaces gone). The
candidate takes its place by its similarity to the problem, within the ``k`` results, the
``min_similarity`` cut-off and the token budget, exactly as a student would be served it
later; on a problem where it would not be retrieved, both prompts are the same. Any text
added to a small student's prompt flips a few fragile answers, so a lesson tried where it
would never be shown (a note on fractions, tried on a counting problem) could "win" by
that noise alone. By default greedily (``verify_temperature=0``), the way
the student is evaluated and served, so the comparison is paired answer by answer; with a
temperature above 0, ``verify_rollouts`` sampled rollouts each. All in one batched call.
The candidate is kept only if the share of right answers rises by at least
``verify_margin``; the measured lift is stored on the record and counts in its utility.
GEPA accepts a prompt change the same way: only when a minibatch improves.

That first round is biased in the candidate's favour: the teacher wrote the lesson looking
at its source problem's answer, and on three problems one lucky flip is a lift of a third.
So a candidate that passes it is tried again on ``verify_confirm`` further similar problems
it was not written from (the next nearest), and kept only if it wins there too: at least
one more right answer with it than without. Its stored lift pools both rounds. Only the
candidates that passed the first round cost the second one.

A set of lessons written together (a group comparison's rules,
:mod:`ted_graph.distillation.induction`)
is tried together instead: :meth:`Verifier.set_verdicts` on the problems
:meth:`Verifier.near` gives, outside the group they were induced from.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel

from ted_graph.answers import extract_answer, grade
from ted_graph.config import DistillConfig
from ted_graph.library.examples import WorkedExample
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import (
    retrieval_query,
    retrieve_examples,
    student_messages,
    within_budget,
)
from ted_graph.models.generation import generate
from ted_graph.types import Problem, RetrievedExperience

__all__ = ["Candidate", "Verdict", "Verifier"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A lesson to try: its text, the problem it came from, the id it would replace."""

    text: str
    problem: Problem
    replaces: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What trying a candidate measured: right-answer shares without and with it.

    ``confirmed`` is None when no confirmation round ran, else whether the candidate won
    more answers than it lost on the problems of that round.
    """

    without: float
    with_: float
    rollouts: int  # rollouts per condition
    confirmed: bool | None = None
    shown: int | None = None  # problems on which retrieval would show the candidate

    @property
    def lift(self) -> float:
        return self.with_ - self.without

    def passes(self, margin: float) -> bool:
        """Kept: the lift reaches ``margin`` and a confirmation round, if any, agreed."""
        return self.lift >= margin and self.confirmed is not False

    def pooled(self, confirmation: Verdict) -> Verdict:
        """This verdict with a confirmation round's answers added in."""
        total = self.rollouts + confirmation.rollouts
        return Verdict(
            (self.without * self.rollouts + confirmation.without * confirmation.rollouts) / total,
            (self.with_ * self.rollouts + confirmation.with_ * confirmation.rollouts) / total,
            total,
            confirmed=confirmation.with_ > confirmation.without,
            shown=None if self.shown is None else self.shown + (confirmation.shown or 0),
        )


class Verifier:
    """Tries candidate lessons on the student (see the module docstring).

    Args:
        student: the student model.
        library: the library being written (its retrieval gives the "without" prompts).
        trainset: the training problems the similar ones are drawn from.
        cfg: ``verify_problems``, ``verify_temperature``, ``verify_rollouts``, retrieval and
            token settings.
    """

    def __init__(
        self,
        student: BaseChatModel,
        library: ExperienceLibrary,
        trainset: Sequence[Problem],
        cfg: DistillConfig,
    ) -> None:
        self.student = student
        self.library = library
        self.problems = list(trainset)
        self.cfg = cfg
        self._index = {p["id"]: i for i, p in enumerate(self.problems)}
        self._vectors: np.ndarray | None = None

    def neighbours(self, problem: Problem, m: int) -> list[Problem]:
        """The ``m`` training problems most similar to ``problem`` (itself excluded)."""
        return self.near([problem], m)

    def near(self, group: Sequence[Problem], m: int) -> list[Problem]:
        """The ``m`` training problems most similar to ``group`` on average, outside it."""
        if m <= 0 or not group or len(self.problems) < 2:
            return []
        vectors = self._trainset_vectors()
        rows = [self._vector(p) for p in group]
        query = np.mean(rows, axis=0)
        sims = vectors @ query
        inside = {p["id"] for p in group}
        order = [int(i) for i in np.argsort(-sims, kind="stable")]
        return [self.problems[i] for i in order if self.problems[i]["id"] not in inside][:m]

    def _trainset_vectors(self) -> np.ndarray:
        if self._vectors is None:  # embedded once, on first use
            texts = [retrieval_query(p) for p in self.problems]
            self._vectors = _unit(self.library.embedding_function(texts))
        return self._vectors

    def _vector(self, problem: Problem) -> np.ndarray:
        own = self._index.get(problem["id"])
        if own is not None:
            return self._trainset_vectors()[own]
        return _unit(self.library.embedding_function([retrieval_query(problem)]))[0]

    def set_verdicts(
        self, sets: Sequence[Sequence[str]], problems: Sequence[Problem]
    ) -> list[Verdict]:
        """For each set of texts, the student on ``problems`` without and with all of the
        set in the library, each text placed by its similarity to the problem as retrieval
        would serve it. The sets share the "without" answers; one batched call.
        ``rollouts`` of a verdict counts answers per condition."""
        if not sets:
            return []
        if not problems:
            return [Verdict(0.0, 0.0, 0, shown=0) for _ in sets]
        cfg = self.cfg
        vectors = [_unit(self.library.embedding_function(list(texts))) for texts in sets]
        prompts: list[Any] = []
        rows = []  # per problem: (problem, without index, with index of each set)
        shown = [0] * len(sets)
        for problem in problems:
            here = self._served(problem)
            without = len(prompts)
            prompts.append(student_messages(problem, here.without, here.examples))
            withs = []
            for i, (texts, vecs) in enumerate(zip(sets, vectors, strict=True)):
                scores = vecs @ here.query if here.query is not None else [-1.0] * len(texts)
                placed = [
                    (Candidate(text, problem), float(score))
                    for text, score in zip(texts, scores, strict=True)
                ]
                served = _as_served(here.hits, placed, cfg)
                shown[i] += any(e["id"] == _CANDIDATE for e in served)
                withs.append(len(prompts))
                prompts.append(student_messages(problem, served, here.examples))
            rows.append((problem, without, withs))
        outputs = self._generate(prompts)
        total = sum(len(outputs[without]) for _, without, _ in rows)
        base = sum(_right(outputs[without], p) for p, without, _ in rows) / total
        return [
            Verdict(
                base,
                sum(_right(outputs[withs[i]], p) for p, _, withs in rows) / total,
                total,
                shown=n,
            )  # fmt: skip
            for i, n in enumerate(shown)
        ]

    def _generate(self, prompts: list[Any]) -> list[list[str]]:
        cfg = self.cfg
        return generate(
            self.student,
            prompts,
            n=cfg.verify_rollouts if cfg.verify_temperature > 0 else 1,
            temperature=cfg.verify_temperature,
            max_tokens=cfg.student_max_tokens,
            seed=cfg.seed,
            batch_size=cfg.generation_batch_size,
        )

    def verdicts(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        """Measure every candidate: a first round on its source problem and
        ``verify_problems`` similar ones, then, for those that pass it, a confirmation round
        on ``verify_confirm`` further ones. Each round goes to the student in one call."""
        cfg = self.cfg
        first = self._round(candidates, 0, cfg.verify_problems, source=True)
        if cfg.verify_confirm <= 0:
            return first
        promising = [i for i, v in enumerate(first) if v.passes(cfg.verify_margin)]
        start = cfg.verify_problems
        second = self._round(
            [candidates[i] for i in promising], start, start + cfg.verify_confirm, source=False
        )
        out = list(first)
        for i, verdict in zip(promising, second, strict=True):
            if verdict.rollouts:  # no further problems: the first round stands
                out[i] = first[i].pooled(verdict)
        return out

    def _round(
        self, candidates: Sequence[Candidate], start: int, stop: int, *, source: bool
    ) -> list[Verdict]:
        """Verdicts on each candidate's neighbours ``start:stop`` (and its source problem)."""
        if not candidates:
            return []
        cfg = self.cfg
        prompts, keys = [], {}
        served: dict[str, _Served] = {}  # the library is not changing
        texts = _unit(self.library.embedding_function([c.text for c in candidates]))
        plan: list[list[tuple[Problem, int, int]]] = []  # per candidate: (problem, without, with)
        shown_on: list[int] = []
        for cand, text_vector in zip(candidates, texts, strict=True):
            rows = []
            shown_on.append(0)
            tried = self.neighbours(cand.problem, stop)[start:]
            for problem in [cand.problem, *tried] if source else tried:
                if problem["id"] not in served:
                    served[problem["id"]] = self._served(problem)
                here = served[problem["id"]]
                score = float(text_vector @ here.query) if here.query is not None else -1.0
                with_ = _as_served(here.hits, [(cand, score)], cfg)
                shown_on[-1] += any(e["id"] == _CANDIDATE for e in with_)
                indices = []
                for exps in (here.without, with_):
                    key = (problem["id"], tuple(e["text"] for e in exps))
                    if key not in keys:  # one baseline per problem and library state
                        keys[key] = len(prompts)
                        prompts.append(student_messages(problem, exps, here.examples))
                    indices.append(keys[key])
                rows.append((problem, indices[0], indices[1]))
            plan.append(rows)
        if not prompts:  # no problem left to try on
            return [Verdict(0.0, 0.0, 0, shown=0) for _ in candidates]
        outputs = self._generate(prompts)
        verdicts = []
        for rows, shown in zip(plan, shown_on, strict=True):
            right = {"without": 0, "with": 0}
            total = 0
            for problem, without, with_ in rows:
                for name, index in (("without", without), ("with", with_)):
                    right[name] += _right(outputs[index], problem)
                total += len(outputs[without])
            if not total:  # no problem to try it on (a confirmation round past the set)
                verdicts.append(Verdict(0.0, 0.0, 0, shown=0))
                continue
            verdicts.append(
                Verdict(right["without"] / total, right["with"] / total, total, shown=shown)
            )
        return verdicts

    def _served(self, problem: Problem) -> _Served:
        """What retrieval gives ``problem`` now, and what it needs to place a candidate."""
        cfg = self.cfg
        query, images = retrieval_query(problem), problem.get("images") or None
        vector = self.library.query_vector(query, images=images) if cfg.k > 0 else None
        hits: list[RetrievedExperience] = [  # one more than k: an UPDATE may free a place
            {"id": exp.id, "text": exp.text, "score": round(score, 4)}
            for exp, score in self.library.search_vector(
                vector, k=cfg.k + 1, min_similarity=cfg.min_similarity
            )
        ] if vector is not None else []  # fmt: skip
        return _Served(
            hits=hits,
            without=within_budget(hits[: cfg.k], cfg.max_experience_tokens),
            query=vector,
            examples=retrieve_examples(self.library, problem, k=cfg.examples),
        )


_CANDIDATE = "candidate"


@dataclass(frozen=True)
class _Served:
    hits: list[RetrievedExperience]  # best first, k + 1 of them at most
    without: list[RetrievedExperience]  # what the student is shown now
    query: np.ndarray | None  # the unit vector retrieval looks up
    examples: list[WorkedExample]  # shown in both conditions alike


def _as_served(
    hits: list[RetrievedExperience],
    placed: Sequence[tuple[Candidate, float]],
    cfg: DistillConfig,
) -> list[RetrievedExperience]:
    """What retrieval would show once the candidates are in the library: the records they
    replace gone, each candidate placed by its score if it reaches ``min_similarity``, then
    the best ``k`` within the token budget."""
    gone = {cand.replaces for cand, _ in placed}
    entries = [e for e in hits if e["id"] not in gone]
    for cand, score in placed:
        if cfg.k > 0 and score >= cfg.min_similarity:
            entries.append({"id": _CANDIDATE, "text": cand.text, "score": round(score, 4)})
    entries.sort(key=lambda e: -e["score"])
    return within_budget(entries[: cfg.k], cfg.max_experience_tokens)


def _right(texts: Sequence[str], problem: Problem) -> int:
    """How many of the student's answers ``texts`` to ``problem`` are right."""
    return sum(grade(extract_answer(text, problem.get("choices")), problem) for text in texts)


def _unit(vectors: Sequence[Any]) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array / (np.linalg.norm(array, axis=-1, keepdims=True) + 1e-12)
