"""Drop-in nodes that add TED to an existing LangGraph agent with a ``messages`` state.

``create_experience_node`` reads the latest user turn, retrieves the relevant experiences
and puts them in a system block (one message with a fixed id, so later turns replace it
instead of piling up) before the agent's model call; the block records which experiences
it holds. ``create_feedback_node`` turns feedback on the agent's last answer into usage
statistics and, with a teacher, new experiences (see :mod:`ted_graph.serving.feedback`).

Example:
    >>> from langgraph.graph import START, StateGraph
    >>> from langchain_core.language_models import GenericFakeChatModel
    >>> lib = ExperienceLibrary.in_memory()
    >>> _ = lib.add("When counting objects, list each item with its quantity first.")
    >>> model = GenericFakeChatModel(messages=iter(["Answer: 5"]))
    >>> graph = StateGraph(ExperienceState)
    >>> _ = graph.add_node("experiences", create_experience_node(lib, min_similarity=0.0))
    >>> _ = graph.add_node("agent", lambda s: {"messages": [model.invoke(s["messages"])]})
    >>> _ = graph.add_edge(START, "experiences")
    >>> _ = graph.add_edge("experiences", "agent")
    >>> out = graph.compile().invoke({"messages": [("user", "How many fruits: 2 + 3?")]})
    >>> [m.type for m in out["messages"]], experience_ids(out["messages"]) != []
    (['system', 'human', 'ai'], True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.graph import MessagesState
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from typing_extensions import NotRequired

from ted_graph.config import DistillConfig
from ted_graph.data.images import message_images
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import retrieve_experiences
from ted_graph.models.generation import message_text
from ted_graph.prompts import render
from ted_graph.serving.feedback import Feedback, FeedbackReport, learn_from_feedback
from ted_graph.types import Problem, RetrievedExperience

__all__ = [
    "BLOCK_ID",
    "ExperienceState",
    "create_experience_node",
    "create_feedback_node",
    "experience_block",
    "experience_ids",
    "latest_user_images",
    "latest_user_text",
    "retrieve_for_text",
]

#: The id of the system message holding the experiences (one per conversation).
BLOCK_ID = "ted-experiences"
_META = "ted_experiences"


class ExperienceState(MessagesState):
    """``messages`` plus an optional ``feedback`` for :func:`create_feedback_node`."""

    feedback: NotRequired[Feedback | None]


def latest_user_text(messages: Sequence[AnyMessage]) -> str:
    """Text of the latest human message (image blocks are skipped)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message_text(message)
    return ""


def latest_user_images(messages: Sequence[AnyMessage]) -> list[Any]:
    """Image references (base64, data or file URLs) in the latest human message.

    Remote ``http(s)`` images are left out: nothing is downloaded to retrieve experiences.
    """
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return [
                ref
                for ref in message_images(message.content)
                if not (isinstance(ref, str) and ref.startswith(("http://", "https://")))
            ]
    return []


def retrieve_for_text(
    library: ExperienceLibrary,
    text: str,
    *,
    k: int,
    min_similarity: float,
    max_tokens: int,
    images: Sequence[Any] = (),
) -> list[RetrievedExperience]:
    """:func:`~ted_graph.library.prompting.retrieve_experiences` for a user turn's text and images
    (a turn with neither retrieves nothing)."""
    problem: Problem = {"id": "", "question": text, "answer": ""}
    if images:
        problem["images"] = list(images)
    return retrieve_experiences(
        library, problem, k=k, min_similarity=min_similarity, max_tokens=max_tokens
    )


def experience_block(experiences: Sequence[RetrievedExperience]) -> str:
    """The delimited advice block (``prompts/experience_block.jinja``)."""
    return render("experience_block", experiences=list(experiences))


def _block(messages: Sequence[BaseMessage]) -> BaseMessage | None:
    return next((m for m in reversed(messages) if m.id == BLOCK_ID), None)


def experience_ids(messages: Sequence[BaseMessage]) -> list[str]:
    """Ids of the experiences in the conversation's current block (``[]`` if none)."""
    block = _block(messages)
    if block is None:
        return []
    return [e["id"] for e in block.response_metadata.get(_META, [])]


def create_experience_node(
    library: ExperienceLibrary,
    *,
    k: int = 5,
    min_similarity: float = 0.2,
    max_tokens: int = 400,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A node that puts the experiences relevant to the latest user turn before the model.

    Add it in front of the node that calls the model. The block is a ``SystemMessage``
    with id :data:`BLOCK_ID`, placed after the conversation's own leading system messages
    (providers such as Anthropic want system messages first) and replaced on later turns;
    ``block.response_metadata["ted_experiences"]`` lists what it holds, which
    :func:`create_feedback_node` reads. With nothing relevant the block is removed.

    Args:
        library: where experiences are retrieved from.
        k, min_similarity, max_tokens: as in distillation (``DistillConfig``).
    """

    def ted_experiences(state: dict[str, Any]) -> dict[str, Any]:
        messages: list[AnyMessage] = list(state["messages"])
        query = latest_user_text(messages)
        found = retrieve_for_text(
            library,
            query,
            k=k,
            min_similarity=min_similarity,
            max_tokens=max_tokens,
            images=latest_user_images(messages),
        )
        existing = _block(messages)
        if not found:
            return {"messages": [RemoveMessage(id=BLOCK_ID)]} if existing else {}
        block = SystemMessage(
            content=experience_block(found),
            id=BLOCK_ID,
            response_metadata={_META: found, "ted_query": query},
        )
        if existing is not None:
            return {"messages": [block]}  # same id: replaced where it stands
        lead = 0
        while lead < len(messages) and isinstance(messages[lead], SystemMessage):
            lead += 1
        rebuilt = [*messages[:lead], block, *messages[lead:]]
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *rebuilt]}

    return ted_experiences


def _last_answer(messages: Sequence[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, AIMessage) and not message.tool_calls:
            return message_text(message)
    return ""


def create_feedback_node(
    library: ExperienceLibrary,
    teacher: BaseChatModel | None = None,
    *,
    config: DistillConfig | None = None,
    key: str = "feedback",
    on_report: Callable[[FeedbackReport], None] | None = None,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A node that learns from ``state[key]`` (a :class:`~ted_graph.serving.feedback.Feedback`).

    It grades the agent's last answer (the latest AI message without tool calls) for the
    question the current experience block was retrieved for, records the usage of the
    block's experiences and, with a ``teacher``, writes experiences from a wrong answer.
    The feedback is consumed (``state[key]`` is set to ``None``). Use
    :class:`ExperienceState` or add a ``feedback`` key to your state.
    """

    def ted_feedback(state: dict[str, Any]) -> dict[str, Any]:
        feedback = state.get(key)
        if not feedback:
            return {}
        messages: list[BaseMessage] = list(state["messages"])
        block = _block(messages)
        question = (
            block.response_metadata.get("ted_query") if block is not None else None
        ) or latest_user_text(messages)  # type: ignore[arg-type]
        report = learn_from_feedback(
            library,
            question=question,
            response=_last_answer(messages),
            experiences=experience_ids(messages),
            feedback=feedback,
            teacher=teacher,
            config=config,
        )
        if on_report is not None:
            on_report(report)
        return {key: None}

    return ted_feedback
