"""Shared fixtures: a prompt-aware fake chat model and fresh libraries."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from fakes import RuleChatModel, teacher_rule

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
    from ted_graph.library.library import ExperienceLibrary

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
