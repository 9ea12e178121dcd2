"""How the llama.cpp engine reads and decodes text: settings, vocabulary, sampler chains.

:class:`SamplingParams` are one request's settings; :class:`Vocabulary` tokenizes and
detokenizes, and builds the llama.cpp sampler chain of each of a request's sequences
(grammar first, then the end-of-generation mask, the repetition penalty, and greedy or
top-k, top-p, temperature and a per-sequence seed).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

__all__ = ["SamplingParams", "Vocabulary"]


@dataclass(frozen=True)
class SamplingParams:
    """How one request's sequences are decoded.

    ``temperature == 0`` is greedy decoding (then ``n`` identical sequences are decoded
    once). ``repetition_penalty`` is llama.cpp's repeat penalty over the last 64 tokens,
    prompt included, close to transformers' ``repetition_penalty``. ``min_tokens`` masks
    end-of-generation tokens until that many tokens were produced. ``grammar`` (GBNF, root
    rule ``root``) constrains every token, so the output always matches it. ``top_k``
    (0: off) keeps the likeliest tokens before the nucleus cut; 64 is the transformers
    backend's ``SAMPLE_TOP_K``, so both sample from the same candidates. Where the next
    token's distribution is flat, top-p alone sorts much of the vocabulary (152k tokens for
    Qwen) at every step: on ``benchmarks/inference.py``'s synthetic prompts that cost the
    0.5B student a third of its sampled decode rate at 16 sequences. On real rollouts,
    whose distributions are peaked, the difference was within noise.
    """

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 64
    repetition_penalty: float = 1.0
    min_tokens: int = 0
    seed: int | None = None
    grammar: str | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


class Vocabulary:
    """One llama.cpp model's vocabulary: text to tokens and back, its chat template, and
    the sampler chains that pick the next token (``lc``: ``llama_cpp.llama_cpp``)."""

    def __init__(self, lc: Any, model: Any) -> None:
        self._lc = lc
        self._model = model
        self._vocab = lc.llama_model_get_vocab(model)
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        self._eog: list[int] | None = None

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        """Token ids of ``text``; special tokens written in it (chat markup) are parsed."""
        data = text.encode("utf-8")
        size = len(data) + 8
        buf = (self._lc.llama_token * size)()
        n = self._lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, True)
        if n < 0:  # buffer too small: -n is the size needed
            size = -n
            buf = (self._lc.llama_token * size)()
            n = self._lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, True)
        return list(buf[:n])

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens`` without special tokens."""
        pieces = []
        buf = ctypes.create_string_buffer(256)
        for token in tokens:
            n = self._lc.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
            if n < 0:
                big = ctypes.create_string_buffer(-n)
                n = self._lc.llama_token_to_piece(self._vocab, token, big, len(big), 0, False)
                pieces.append(big.raw[:n])
            else:
                pieces.append(buf.raw[:n])
        return b"".join(pieces).decode("utf-8", errors="replace")

    def token_text(self, token: int) -> str:
        """A special token's text (``<|im_end|>``), for chat templates."""
        buf = ctypes.create_string_buffer(256)
        n = self._lc.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, True)
        return buf.raw[: max(n, 0)].decode("utf-8", errors="replace")

    @property
    def chat_template(self) -> str | None:
        raw = self._lc.llama_model_chat_template(self._model, None)
        return raw.decode("utf-8") if raw else None

    @property
    def bos_text(self) -> str:
        return self.token_text(self._lc.llama_vocab_bos(self._vocab))

    @property
    def eos_text(self) -> str:
        return self.token_text(self._lc.llama_vocab_eos(self._vocab))

    # -- samplers --------------------------------------------------------------------

    def eog_tokens(self) -> list[int]:
        """The vocabulary's end-of-generation tokens (found once)."""
        if self._eog is None:
            is_eog = self._lc.llama_vocab_is_eog
            self._eog = [t for t in range(self.n_vocab) if is_eog(self._vocab, t)]
        return self._eog

    def grammar(self, grammar: str) -> Any:
        """A llama.cpp grammar sampler for GBNF ``grammar`` (root rule ``root``)."""
        sampler = self._lc.llama_sampler_init_grammar(self._vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            raise ValueError("llama.cpp could not parse the grammar (GBNF, root rule 'root')")
        return sampler

    def chain(self, params: SamplingParams, prompt: list[int], index: int) -> Any:
        """A llama.cpp sampler chain for sequence ``index`` of a request with ``prompt``
        tokens, or None for plain argmax. The caller frees it (``llama_sampler_free``)."""
        lc = self._lc
        if params.greedy and params.repetition_penalty == 1.0 and not params.grammar:
            return None
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if params.grammar:  # first: every later step sees only tokens the grammar allows
            lc.llama_sampler_chain_add(chain, self.grammar(params.grammar))
        if params.min_tokens > 0:
            eog = self.eog_tokens()
            biases = (lc.llama_logit_bias * len(eog))()
            for i, token in enumerate(eog):
                biases[i].token = token
                biases[i].bias = float("-inf")
            lc.llama_sampler_chain_add(
                chain, lc.llama_sampler_init_logit_bias(self.n_vocab, len(eog), biases)
            )
        if params.repetition_penalty != 1.0:
            penalties = lc.llama_sampler_init_penalties(
                self.n_vocab, 64, params.repetition_penalty, 0.0, 0.0
            )
            for token in prompt[-64:]:  # the prompt counts, as in transformers
                lc.llama_sampler_accept(penalties, token)  # (not the grammar: it is output's)
            lc.llama_sampler_chain_add(chain, penalties)
        if params.greedy:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
        else:
            if params.top_k > 0:
                lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_k(params.top_k))
            if params.top_p < 1.0:
                lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(params.top_p, 1))
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(params.temperature))
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(_seed(params, index)))
        return chain


def _seed(params: SamplingParams, index: int) -> int:
    if params.seed is None:
        return 0xFFFFFFFF  # LLAMA_DEFAULT_SEED: a random seed
    return (params.seed * 1_000_003 + index) % 0xFFFFFFFF
