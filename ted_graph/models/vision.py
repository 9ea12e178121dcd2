"""Vision-language models in-process (transformers ``image-text-to-text``).

Specs:

* ``vision:<folder or hub id>``: a real VLM with its processor, e.g.
  ``vision:HuggingFaceTB/SmolVLM-256M-Instruct`` (needs its weights: internet once, or a
  folder; a GPU helps). This is the one-flag switch for users who have weights.
* ``tiny-vlm``: a tiny **random-weight** Idefics3 (SmolVLM architecture) built locally from a
  config with the embedded SmolLM2 tokenizer plus image tokens. No real VLM weights are
  installable offline; this model answers nonsense, but it receives real pixel values
  through the same code path as a real one, so the image path is tested end to end.

Images arrive as LangChain standard image content blocks (see :mod:`ted_graph.data.images`) and
are handed to the model's processor as PIL images. :class:`VisionBackend` is these models'
:class:`~ted_graph.models.base.GenerationBackend`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from ted_graph.data.images import block_image, load_image
from ted_graph.models.base import (
    GenerationBackend,
    GenerationRequest,
    Prompts,
    message_text,
)

__all__ = [
    "ChatVisionTransformers",
    "VisionBackend",
    "build_tiny_vlm",
    "load_vision_chat_model",
    "TINY_VLM",
]

TINY_VLM = "tiny-vlm"
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}
# ChatML with image placeholders: the embedded SmolLM2 tokenizer's format
_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% elif part['type'] == 'image' %}<image>{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class ChatVisionTransformers(BaseChatModel):
    """A transformers image-text-to-text model and its processor as a LangChain chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model: Any
    processor: Any
    name_or_path: str = ""
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int | None = None
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "transformers-vision"

    def _conversation(self, messages: list[BaseMessage]) -> tuple[list[dict[str, Any]], list[Any]]:
        conversation, images = [], []
        for message in messages:
            role = _ROLES.get(message.type, "user")
            if isinstance(message.content, str):
                conversation.append({"role": role, "content": message.content})
                continue
            parts: list[dict[str, Any]] = []
            for block in message.content:
                if isinstance(block, str):
                    parts.append({"type": "text", "text": block})
                elif block.get("type") == "text":
                    parts.append({"type": "text", "text": block.get("text", "")})
                elif (ref := block_image(block)) is not None:
                    images.append(load_image(ref))
                    parts.append({"type": "image"})
            conversation.append({"role": role, "content": parts})
        return conversation, images

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        conversation, images = self._conversation(messages)
        text = self.processor.apply_chat_template(conversation, add_generation_prompt=True)
        inputs = self.processor(
            text=[text], images=[images] if images else None, return_tensors="pt"
        )
        temperature = float(kwargs.get("temperature", self.temperature))
        settings: dict[str, Any] = {
            "max_new_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
            "do_sample": temperature > 0,
        }
        if temperature > 0:
            settings["temperature"] = temperature
        seed = kwargs.get("seed", self.seed)
        with self._lock, torch.no_grad():
            if seed is not None:
                torch.manual_seed(int(seed))
            out = self.model.generate(**inputs, **settings)
        reply = self.processor.tokenizer.decode(
            out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply.strip()))])


class VisionBackend(GenerationBackend):
    """:class:`ChatVisionTransformers` models: one sequence at a time (the model holds a
    lock), each of a prompt's ``n`` copies with its own seed (``seed + copy``)."""

    name = "transformers-vision"

    def matches(self, model: BaseChatModel) -> bool:
        return isinstance(model, ChatVisionTransformers)

    def generate(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> list[list[str]]:
        out = []
        for prompt in prompts:
            texts = []
            for copy in range(request.n):
                seed = request.seed + copy if request.seed is not None else None
                reply = model.invoke(
                    list(prompt),
                    temperature=request.temperature,
                    max_tokens=request.max_tokens,
                    **({"seed": seed} if seed is not None else {}),
                )
                texts.append(message_text(reply).strip())
            out.append(texts)
        return out


def build_tiny_vlm(target: Path, seed: int = 0) -> Path:
    """Save a tiny random-weight Idefics3 and its processor to ``target`` (deterministic)."""
    import torch
    from transformers import (
        AutoTokenizer,
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3Processor,
    )
    from transformers.models.idefics3 import Idefics3ImageProcessorPil

    from ted_graph.models.registry import resolve_weights

    tokenizer = AutoTokenizer.from_pretrained(resolve_weights("smollm2-135m"))
    tokenizer.add_special_tokens(
        {
            "additional_special_tokens": [
                "<fake_token_around_image>",
                "<image>",
                "<end_of_utterance>",
                "<global-img>",
            ]
        }
    )
    images = Idefics3ImageProcessorPil(
        size={"longest_edge": 64}, max_image_size={"longest_edge": 32}, do_image_splitting=False
    )
    processor = Idefics3Processor(
        image_processor=images, tokenizer=tokenizer, image_seq_len=4, chat_template=_TEMPLATE
    )
    config = Idefics3Config(
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=2,
    )
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    processor.save_pretrained(target)
    return target


def load_vision_chat_model(spec: str, **kwargs: Any) -> ChatVisionTransformers:
    """A vision chat model from ``tiny-vlm`` or ``vision:<folder or hub id>``."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from ted_graph.models.registry import cache_dir

    if spec == TINY_VLM:
        path = cache_dir() / "models" / "tiny-idefics3-random"
        if not (path / "config.json").exists():
            build_tiny_vlm(path)
        source = str(path)
    else:
        source = spec.removeprefix("vision:")
    processor = AutoProcessor.from_pretrained(source)
    model = AutoModelForImageTextToText.from_pretrained(source).eval()
    return ChatVisionTransformers(model=model, processor=processor, name_or_path=source, **kwargs)
