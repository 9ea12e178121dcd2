"""Shared fixtures: a prompt-aware fake chat model and fresh libraries."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class RuleChatModel(BaseChatModel):
    """Replies with ``rule(prompt_text)``; records every prompt it saw.

    Deterministic whatever order parallel graph branches call it in, unlike an iterator
    of canned replies.
    """

    rule: Callable[[str], str]
    calls: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "rule-fake"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        self.calls.append(prompt)
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content=self.rule(prompt)))]
        )


LESSON = "When counting listed objects, count every named item once and add the quantities."


def teacher_rule(prompt: str) -> str:
    if "reviewing a student's attempts" in prompt:
        return "The student lost track of items.\nHelpful advice: none\nMisleading advice: E1"
    if "lessons that would help on OTHER problems" in prompt:
        return "```json\n" + json.dumps({"operations": [{"op": "ADD", "text": LESSON}]}) + "\n```"
    if "Two lessons" in prompt:
        return json.dumps({"merge": True, "text": LESSON})
    if "Rewrite this" in prompt:
        return json.dumps({"text": "When counting, list items first."})
    return "Count them: 3 items.\nAnswer: 3"


@pytest.fixture
def make_model() -> Callable[[Callable[[str], str]], RuleChatModel]:
    def make(rule: Callable[[str], str]) -> RuleChatModel:
        return RuleChatModel(rule=rule, calls=[])

    return make


@pytest.fixture
def teacher(make_model: Any) -> RuleChatModel:
    return make_model(teacher_rule)


@pytest.fixture
def library() -> Any:
    from ted_graph.library import ExperienceLibrary

    return ExperienceLibrary.in_memory()


@pytest.fixture
def problems() -> list[dict[str, Any]]:
    return [
        {
            "id": f"p{i}",
            "question": f"I have a cat, a dog and {i} fish. How many animals do I have?",
            "answer": str(2 + i),
        }
        for i in range(1, 5)
    ]
