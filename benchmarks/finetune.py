"""Parameter-based distillation baseline: fine-tune the student on the teacher's solutions.

The teacher answers the *same* training problems TED learns from, in the student's own
prompt format (greedy). Solutions whose extracted answer is right are kept (rejection
sampling, the usual recipe), and the student is trained on them with a causal-LM loss on
the answer tokens only: LoRA through ``peft`` (default) or full fine-tuning. The LoRA
weights are merged into the model afterwards, so the result is evaluated exactly like the
student alone, through the same ``ChatHuggingFace`` object and :func:`ted_graph.evaluate`.

Used by ``benchmarks/conditions.py``; needs ``pip install peft`` for LoRA.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

from ted_graph.answers import extract_answer, is_correct
from ted_graph.library.prompting import student_messages
from ted_graph.models import generate, track_usage
from ted_graph.models.generation import to_chat_dicts
from ted_graph.models.local import local_backend
from ted_graph.types import Problem

__all__ = ["FinetuneSettings", "teacher_solutions", "finetune"]


@dataclass(frozen=True)
class FinetuneSettings:
    method: str = "lora"  # or "full"
    epochs: int = 3
    learning_rate: float = 2e-4  # LoRA; full fine-tuning uses learning_rate / 10
    batch_size: int = 4
    lora_rank: int = 16
    lora_alpha: int = 32
    max_length: int = 768
    seed: int = 0
    target_modules: tuple[str, ...] = (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    )


@dataclass
class FinetuneReport:
    examples: int
    steps: int
    seconds: float
    train_tokens: int
    losses: list[float] = field(default_factory=list)
    changed_parameters: int = 0
    weight_delta_norm: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "steps": self.steps,
            "seconds": round(self.seconds, 2),
            "train_tokens": self.train_tokens,
            "first_loss": round(self.losses[0], 4) if self.losses else None,
            "last_loss": round(self.losses[-1], 4) if self.losses else None,
            "losses": [round(x, 4) for x in self.losses],
            "changed_parameters": self.changed_parameters,
            "weight_delta_norm": round(self.weight_delta_norm, 6),
        }


def teacher_solutions(
    teacher: BaseChatModel, problems: Sequence[Problem], *, max_tokens: int = 384
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The teacher's greedy answers to ``problems`` in the student's prompt format.

    Returns the per-problem records (``text``, ``prediction``, ``correct``) and the cost
    (wall seconds and per-model token usage).
    """
    prompts = [student_messages(p) for p in problems]
    started = time.time()
    with track_usage() as meter:
        outputs = generate(teacher, prompts, max_tokens=max_tokens, repetition_penalty=1.1)
    seconds = time.time() - started
    records = []
    for problem, texts in zip(problems, outputs, strict=True):
        prediction = extract_answer(texts[0], problem.get("choices"))
        records.append(
            {
                "id": problem["id"],
                "text": texts[0],
                "prediction": prediction,
                "correct": is_correct(prediction, problem["answer"], problem.get("choices")),
            }
        )
    return records, {"seconds": round(seconds, 2), "usage": meter.to_dict()}


def _examples(tokenizer: Any, problems: Sequence[Problem], texts: Sequence[str], max_length: int):
    examples = []
    for problem, text in zip(problems, texts, strict=True):
        prompt = tokenizer.apply_chat_template(
            to_chat_dicts(student_messages(problem)), add_generation_prompt=True, tokenize=False
        )
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(text + (tokenizer.eos_token or ""), add_special_tokens=False)[
            "input_ids"
        ]
        ids = (prompt_ids + answer_ids)[:max_length]
        labels = ([-100] * len(prompt_ids) + answer_ids)[:max_length]
        examples.append((ids, labels))
    return examples


def finetune(
    student: BaseChatModel,
    problems: Sequence[Problem],
    solutions: Sequence[str],
    settings: FinetuneSettings = FinetuneSettings(),
    *,
    progress: bool = True,
) -> FinetuneReport:
    """Train the in-process transformers ``student`` on ``solutions`` (in place).

    After training the student's weights are the fine-tuned ones (LoRA merged), so the
    same chat model object answers with them.
    """
    import torch
    from tqdm.auto import tqdm

    backend = local_backend(student)
    if backend is None:
        raise TypeError("fine-tuning needs an in-process transformers student (transformers:...)")
    model, tokenizer = backend
    if not problems:
        return FinetuneReport(examples=0, steps=0, seconds=0.0, train_tokens=0)
    if model.dtype in (torch.bfloat16, torch.float16):
        model.float()  # in place: small updates would round away in 16-bit weights
    torch.manual_seed(settings.seed)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    started = time.time()
    if settings.method == "lora":
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(
            r=settings.lora_rank,
            lora_alpha=settings.lora_alpha,
            lora_dropout=0.0,
            target_modules=list(settings.target_modules),
            task_type="CAUSAL_LM",
        )
        trainable = get_peft_model(model, config)
        lr = settings.learning_rate
    elif settings.method == "full":
        trainable = model
        lr = settings.learning_rate / 10
    else:
        raise ValueError(f"method must be 'lora' or 'full', got {settings.method!r}")
    examples = _examples(tokenizer, problems, solutions, settings.max_length)
    params = [p for p in trainable.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    per_epoch = math.ceil(len(examples) / settings.batch_size)
    total = per_epoch * settings.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / max(1, total))
    pad = tokenizer.pad_token_id
    rng = random.Random(settings.seed)
    losses: list[float] = []
    tokens = 0
    trainable.train()
    bar = tqdm(total=total, desc=f"fine-tuning ({settings.method})", disable=not progress)
    try:
        for _ in range(settings.epochs):
            order = list(range(len(examples)))
            rng.shuffle(order)
            for start in range(0, len(order), settings.batch_size):
                batch = [examples[i] for i in order[start : start + settings.batch_size]]
                width = max(len(ids) for ids, _ in batch)
                ids = torch.tensor([x + [pad] * (width - len(x)) for x, _ in batch])
                labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
                mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
                loss = trainable(input_ids=ids, attention_mask=mask, labels=labels).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                losses.append(float(loss.detach()))
                tokens += int(mask.sum())
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
    finally:
        bar.close()
    if settings.method == "lora":
        trainable.merge_and_unload()
    model.eval()
    seconds = time.time() - started
    changed = 0
    delta = 0.0
    with torch.no_grad():
        for name, p in model.named_parameters():
            diff = (p.detach() - before[name]).float()
            if diff.abs().max() > 0:
                changed += p.numel()
                delta += float(diff.pow(2).sum())
    return FinetuneReport(
        examples=len(examples),
        steps=len(losses),
        seconds=seconds,
        train_tokens=tokens,
        losses=losses,
        changed_parameters=changed,
        weight_delta_norm=math.sqrt(delta),
    )
