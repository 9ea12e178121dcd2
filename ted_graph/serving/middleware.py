"""TED as an ``AgentMiddleware`` for ``langchain.agents.create_agent`` (needs ``langchain``).

Example:
    >>> from langchain.agents import create_agent
    >>> from langchain_core.language_models import GenericFakeChatModel
    >>> lib = ExperienceLibrary.in_memory()
    >>> _ = lib.add("When counting objects, list each item with its quantity first.")
    >>> ted = ExperienceMiddleware(lib, min_similarity=0.0)
    >>> model = GenericFakeChatModel(messages=iter(["2 + 3 = 5. Answer: 5"]))
    >>> agent = create_agent(model, tools=[], middleware=[ted])
    >>> state = agent.invoke({"messages": [("user", "2 apples and 3 pears: how many fruits?")]})
    >>> len(state["ted_experiences"])
    1
    >>> ted.learn(state, {"answer": "5"}).correct
    True
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import SystemMessage
from langgraph.runtime import Runtime
from typing_extensions import NotRequired

from ted_graph.config import DistillConfig
from ted_graph.library.library import ExperienceLibrary
from ted_graph.serving.feedback import Feedback, FeedbackReport, learn_from_feedback
from ted_graph.serving.nodes import (
    _last_answer,
    experience_block,
    latest_user_images,
    latest_user_text,
    retrieve_for_text,
)
from ted_graph.types import RetrievedExperience

__all__ = ["ExperienceMiddleware", "ExperienceAgentState"]


class ExperienceAgentState(AgentState):
    """The agent's state plus the experiences retrieved for the current turn."""

    ted_experiences: NotRequired[list[RetrievedExperience]]
    ted_query: NotRequired[str]


class ExperienceMiddleware(AgentMiddleware[ExperienceAgentState]):
    """Retrieve experiences once per user turn and add them to every model call's system
    message; :meth:`learn` turns feedback on the agent's answer into statistics and, with a
    ``teacher``, new experiences.

    The experiences go into the request, not into ``messages``: the conversation history
    stays as the user wrote it. The state key ``ted_experiences`` records what was used.
    """

    state_schema = ExperienceAgentState

    def __init__(
        self,
        library: ExperienceLibrary,
        *,
        k: int = 5,
        min_similarity: float = 0.2,
        max_tokens: int = 400,
        teacher: BaseChatModel | None = None,
        config: DistillConfig | None = None,
    ) -> None:
        super().__init__()
        self.library = library
        self.k, self.min_similarity, self.max_tokens = k, min_similarity, max_tokens
        self.teacher, self.config = teacher, config

    def before_agent(
        self, state: ExperienceAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        query = latest_user_text(state["messages"])
        found = retrieve_for_text(
            self.library,
            query,
            k=self.k,
            min_similarity=self.min_similarity,
            max_tokens=self.max_tokens,
            images=latest_user_images(state["messages"]),
        )
        return {"ted_experiences": found, "ted_query": query}

    def _with_block(self, request: ModelRequest) -> ModelRequest:
        found = request.state.get("ted_experiences") or []
        if not found:
            return request
        block = experience_block(found)
        system = request.system_message
        if system is None:
            return request.override(system_message=SystemMessage(content=block))
        if isinstance(system.content, str):
            content: Any = f"{system.content}\n\n{block}"
        else:
            content = [*system.content, {"type": "text", "text": block}]
        return request.override(system_message=SystemMessage(content=content))

    def wrap_model_call(self, request: ModelRequest, handler: Callable[[ModelRequest], Any]) -> Any:
        return handler(self._with_block(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[Any]]
    ) -> Any:
        return await handler(self._with_block(request))

    def learn(self, state: dict[str, Any], feedback: Feedback | dict[str, Any]) -> FeedbackReport:
        """Learn from feedback on the answer in ``state`` (what ``agent.invoke`` returned)."""
        return learn_from_feedback(
            self.library,
            question=state.get("ted_query") or latest_user_text(state["messages"]),
            response=_last_answer(state["messages"]),
            experiences=state.get("ted_experiences") or [],
            feedback=feedback,
            teacher=self.teacher,
            config=self.config,
        )
