"""Test doubles: a prompt-aware fake chat model and a scripted teacher."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


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
