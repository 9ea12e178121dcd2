"""The parameter-based distillation baseline of benchmarks/ trains real weights."""

import sys
from pathlib import Path

import pytest

from ted_graph.models import FAST_STUDENT, load_chat_model
from ted_graph.models.local import local_backend

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import finetune as finetune_module  # noqa: E402  (benchmarks/finetune.py; needs peft)

pytestmark = pytest.mark.integration

PROBLEMS = [
    {"id": "a", "question": "How many legs do two cats have?", "answer": "8"},
    {"id": "b", "question": "How many wheels do three bicycles have?", "answer": "6"},
]
SOLUTIONS = [
    "Each cat has 4 legs, so 2 x 4 = 8.\nAnswer: 8",
    "Each bicycle has 2 wheels, so 3 x 2 = 6.\nAnswer: 6",
]


@pytest.mark.parametrize("method", ["lora", "full"])
def test_finetuning_changes_the_weights_the_chat_model_uses(method):
    student = load_chat_model(f"transformers:{FAST_STUDENT}")
    model, _ = local_backend(student)
    before = model.lm_head.weight.detach().clone() if method == "full" else None
    q_before = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    settings = finetune_module.FinetuneSettings(method=method, epochs=2, batch_size=2)
    report = finetune_module.finetune(student, PROBLEMS, SOLUTIONS, settings, progress=False)
    assert report.examples == 2 and report.steps == 2 and report.train_tokens > 40
    assert report.changed_parameters > 0 and report.weight_delta_norm > 0
    assert report.losses[-1] < report.losses[0]  # it learns the two solutions
    # the merged weights are in the very model object the chat model generates with
    model_after, _ = local_backend(student)
    assert model_after is model
    assert not model.model.layers[0].self_attn.q_proj.weight.equal(q_before)
    assert not any("lora" in name for name, _ in model.named_parameters())
    if before is not None:
        assert not model.lm_head.weight.equal(before)
    reply = student.invoke("How many legs do two cats have?")
    assert isinstance(reply.content, str)
