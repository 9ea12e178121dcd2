"""Test doubles: a prompt-aware fake chat model and a scripted teacher."""

from __future__ import annotations

import json
import re
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
    return rationalized(prompt) or "Count them: 3 items.\nAnswer: 3"


def rationalized(prompt: str) -> str | None:
    """The teacher's steps to an answer it was shown (prompts/teacher_rationalize)."""
    shown = re.search(r"The correct answer is: (.+)", prompt)
    return f"Count each animal once.\nAnswer: {shown.group(1)}" if shown else None


def teacher_for_steps() -> RuleChatModel:
    """A teacher that, for each critique, updates the first lesson shown and adds a new one
    (two writes a batch, so a crash can fall between them)."""

    def rule(prompt: str) -> str:
        if "reviewing a student's attempts" in prompt:
            n = re.search(r"and (\d) fish", prompt).group(1)
            return f"The student lost count of the {n} fish.\nHelpful advice: none"
        if "lessons that would help on OTHER problems" in prompt:
            n = re.search(r"lost count of the (\d) fish", prompt).group(1)
            n = ["zero", "one", "two", "three", "four", "five"][int(n)]  # a digit of the
            add = f"When {n} kinds of animals are listed, count each kind first."  # question
            update = f"When animals are listed, count each one; check {n} times."  # is refused
            ops = [{"op": "ADD", "text": add}]
            if "[E1]" in prompt:
                ops.insert(0, {"op": "UPDATE", "id": "E1", "text": update})
            return json.dumps({"operations": ops})
        return rationalized(prompt) or "Count them one by one.\nAnswer: 3"

    return RuleChatModel(rule=rule, calls=[])
