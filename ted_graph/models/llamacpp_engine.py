"""A continuous-batching generation engine over llama.cpp (through ``llama-cpp-python``).

Generation on a CPU is bound by memory bandwidth: every decoded token reads all the
weights once. llama.cpp reads 4-bit GGUF weights directly, and one forward pass can carry
many sequences, so the weights are read once per *step* rather than once per token of each
sequence. This engine keeps up to ``n_parallel`` sequences in flight on one llama.cpp
context, the way ``llama-server`` does:

* requests come from any thread (graph branches, evaluation, serving) and are admitted
  into free sequence slots as soon as there is room, so rollouts of different problems
  share forward passes (continuous batching);
* a prompt is prefilled once and its KV cache copied to its ``n`` sampled sequences;
* new prompts are packed together into prefill batches of up to ``n_batch`` tokens;
* every sequence has its own sampler chain and seed, so a request's output does not depend
  on what it was batched with (up to float rounding in batched kernels).

Only llama.cpp's public C API (``llama_cpp.llama_cpp``) is used; no llama.cpp code is
copied.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, fields
from typing import Any

from ted_graph.models.cpu import CPU_COMPUTE, on_compute_thread
from ted_graph.models.llamacpp_sampling import SamplingParams, Vocabulary

__all__ = ["SamplingParams", "EngineStats", "LlamaEngine"]

logger = logging.getLogger(__name__)

_BACKEND_INIT = threading.Lock()
_BACKEND_READY = False
# Engines of different models (a student and a teacher), and transformers models on the
# CPU, take turns on the cores (ted_graph.models.cpu)
_COMPUTE = CPU_COMPUTE


@dataclass
class EngineStats:
    """Cumulative work of an engine: prefill and decode tokens and the seconds they took."""

    prefill_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_tokens: int = 0
    decode_seconds: float = 0.0
    decode_steps: int = 0

    def since(self, earlier: EngineStats) -> EngineStats:
        """The work done since ``earlier`` (a copy of this engine's stats taken then)."""
        return EngineStats(
            **{f.name: getattr(self, f.name) - getattr(earlier, f.name) for f in fields(self)}
        )


class _Request:
    def __init__(self, tokens: list[int], n: int, params: SamplingParams) -> None:
        self.tokens = tokens
        # greedy: one sequence is decoded and stands for all n
        self.copies = n if params.greedy else 1
        n = 1 if params.greedy else n
        self.n = n
        self.params = params
        self.future: Future[list[list[int]]] = Future()
        self.outputs: list[list[int] | None] = [None] * n
        self.remaining = n


class _Slot:
    def __init__(self, seq: int, request: _Request, index: int, sampler: Any) -> None:
        self.seq = seq
        self.request = request
        self.index = index
        self.sampler = sampler  # llama.cpp sampler chain, or None for the greedy fast path
        # a min_tokens mask sits first in the chain until enough tokens were generated
        self.min_tokens_masked = sampler is not None and request.params.min_tokens > 0
        self.pos = len(request.tokens)
        self.generated: list[int] = []
        self.last = -1
        self.output_index = -1


class LlamaEngine:
    """One llama.cpp model and context, shared by every thread that generates with it.

    Every sequence has its own KV stream of ``n_ctx // n_parallel`` cells, so attention
    stays within a sequence however many run together. (With one unified KV buffer every
    token attends over the cells of all sequences: measured here with llama.cpp's own
    ``llama-batched-bench``, 64 unified sequences decoded 4x slower than 64 split ones.)
    llama.cpp decodes split streams in one pass only when the batch's sequence ids are
    consecutive, so the engine keeps the running sequences on ids ``0..k-1``: when one
    finishes below others, the highest is moved down into its place.

    Args:
        model_path: a GGUF file.
        n_ctx: KV cache size in tokens; each sequence gets ``n_ctx // n_parallel``.
        n_parallel: most sequences decoded together (one forward pass per step).
        n_batch: most tokens per prefill pass.
        n_threads: CPU threads; default: the usable cores.
        placement: where the weights live on the CPU (:mod:`ted_graph.models.llamacpp_cpu`);
            default: ``$TED_LLAMACPP_WEIGHTS``, else ``"auto"`` (never llama.cpp's AMX path,
            which crashes some AMX machines).
    """

    def __init__(
        self,
        model_path: str,
        *,
        n_ctx: int = 65536,
        n_parallel: int = 16,
        n_batch: int = 512,
        n_threads: int | None = None,
        placement: str | None = None,
    ) -> None:
        import llama_cpp as lc

        from ted_graph.models.llamacpp_cpu import placement_params, resolve_placement

        if n_parallel < 1 or n_ctx < n_parallel or n_batch < 1:
            raise ValueError("need n_parallel >= 1, n_ctx >= n_parallel and n_batch >= 1")
        _init_backend(lc)
        self._lc = lc
        self.model_path = model_path
        self.n_parallel = n_parallel
        self.n_batch = n_batch
        threads = n_threads or len(os.sched_getaffinity(0))

        mparams = lc.llama_model_default_params()
        self.placement = resolve_placement(lc, placement)
        self._overrides = placement_params(lc, mparams, model_path, self.placement)
        self._model = lc.llama_model_load_from_file(model_path.encode("utf-8"), mparams)
        if not self._model:
            raise ValueError(f"llama.cpp could not load {model_path!r} (not a valid GGUF file?)")
        self._vocab = lc.llama_model_get_vocab(self._model)
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        self.n_ctx_train = lc.llama_model_n_ctx_train(self._model)

        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = max(n_batch, n_parallel)
        cparams.n_ubatch = max(n_batch, n_parallel)
        cparams.n_seq_max = n_parallel
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.kv_unified = False
        cparams.no_perf = True
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            lc.llama_model_free(self._model)
            raise RuntimeError(f"llama.cpp could not create a context for {model_path!r}")
        self._mem = lc.llama_get_memory(self._ctx)
        self.n_ctx = lc.llama_n_ctx(self._ctx)
        self.seq_capacity = min(self.n_ctx // n_parallel, self.n_ctx_train)
        self._batch = lc.llama_batch_init(cparams.n_batch, 0, 1)
        self.vocab = Vocabulary(lc, self._model)
        self.stats = EngineStats()

        self._cv = threading.Condition()
        self._pending: deque[_Request] = deque()
        self._free = list(range(n_parallel))  # kept sorted: the lowest free id goes first
        self._slots: list[_Slot] = []
        self._closed = False
        self._worker = threading.Thread(target=self._loop, name="ted-llama-engine", daemon=True)
        self._worker.start()

    # -- text ------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        """Token ids of ``text``; special tokens written in it (chat markup) are parsed."""
        return self.vocab.tokenize(text, add_special=add_special)

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens`` without special tokens."""
        return self.vocab.detokenize(tokens)

    # -- requests --------------------------------------------------------------------

    def submit(self, tokens: list[int], n: int, params: SamplingParams) -> Future[list[list[int]]]:
        """Queue a prompt; the future resolves to ``n`` lists of generated token ids.

        Greedy requests decode one sequence and resolve to ``n`` copies of it.
        """
        if self._closed:
            raise RuntimeError("the engine is closed")
        if n < 1:
            raise ValueError("n must be at least 1")
        if not tokens:
            raise ValueError("the prompt is empty")
        if n > self.n_parallel and not params.greedy:
            raise ValueError(f"n={n} is more than the engine's n_parallel={self.n_parallel}")
        if len(tokens) + params.max_tokens > self.seq_capacity:
            raise ValueError(
                f"prompt of {len(tokens)} tokens + max_tokens {params.max_tokens} exceeds the "
                f"{self.seq_capacity} tokens a sequence may hold (n_ctx / n_parallel, at most "
                "the model's context); raise seq_tokens (n_ctx) or shorten the prompt"
            )
        if params.grammar:  # parsed here, in the caller's thread: the worker must not fail
            self._lc.llama_sampler_free(self.vocab.grammar(params.grammar))
        request = _Request(list(tokens), n, params)
        with self._cv:
            if self._closed:
                raise RuntimeError("the engine is closed")
            self._pending.append(request)
            self._cv.notify_all()
        return request.future

    def generate(
        self, prompts: list[list[int]], n: int, params: SamplingParams
    ) -> list[list[list[int]]]:
        """Submit every prompt at once and wait: ``out[i][j]`` is completion ``j`` of ``i``."""
        futures = [self.submit(p, n, params) for p in prompts]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the worker (failing queued requests) and free llama.cpp memory."""
        with self._cv:
            if self._closed:
                return
            self._closed = True
            self._cv.notify_all()
        self._worker.join()
        lc = self._lc
        lc.llama_batch_free(self._batch)
        lc.llama_free(self._ctx)
        lc.llama_model_free(self._model)

    # -- the worker ------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._closed and not self._pending and not self._slots:
                    self._cv.wait()
                if self._closed:
                    self._fail_all(RuntimeError("the engine was closed"))
                    return
                admitted = self._admit()
            try:
                with _COMPUTE:
                    if admitted:
                        self._prefill(admitted)
                    if self._slots:
                        self._step()
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                logger.exception("llama.cpp generation failed")
                with self._cv:
                    self._fail_all(exc)

    def _admit(self) -> list[tuple[_Request, list[_Slot]]]:
        """Move queued requests into free slots, first come first served."""
        admitted = []
        while self._pending and len(self._free) >= self._pending[0].n:
            request = self._pending.popleft()
            slots = []
            for index in range(request.n):
                seq = self._free.pop(0)
                slots.append(
                    _Slot(
                        seq,
                        request,
                        index,
                        self.vocab.chain(request.params, request.tokens, index),
                    )
                )
            self._slots.extend(slots)
            admitted.append((request, slots))
        return admitted

    def _prefill(self, admitted: list[tuple[_Request, list[_Slot]]]) -> None:
        """Prefill each admitted prompt once, share it with its rollouts, sample first tokens.

        One prompt per pass (in ``n_batch`` chunks): a pass over split KV streams with
        prompts of different lengths would be cut into several smaller ones anyway.
        """
        lc = self._lc
        batch = self._batch
        for request, slots in admitted:
            started = time.perf_counter()
            tokens, seq = request.tokens, slots[0].seq
            for offset in range(0, len(tokens), self.n_batch):
                chunk = tokens[offset : offset + self.n_batch]
                for i, token in enumerate(chunk):
                    batch.token[i] = token
                    batch.pos[i] = offset + i
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = seq
                    batch.logits[i] = offset + i == len(tokens) - 1
                batch.n_tokens = len(chunk)
                self._decode()
            last = batch.n_tokens - 1
            for slot in slots[1:]:  # rollouts share the prompt's KV cache (copied at next pass)
                lc.llama_memory_seq_cp(self._mem, seq, slot.seq, -1, -1)
            for slot in slots:
                self._accept(slot, self._sample(slot, last))
            self.stats.prefill_tokens += len(tokens)
            self.stats.prefill_seconds += time.perf_counter() - started
        self._compact()

    def _step(self) -> None:
        """One forward pass with the last token of every running sequence."""
        batch = self._batch
        self._slots.sort(key=lambda slot: slot.seq)  # consecutive ids: one pass (see class)
        for i, slot in enumerate(self._slots):
            batch.token[i] = slot.last
            batch.pos[i] = slot.pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = slot.seq
            batch.logits[i] = True
            slot.pos += 1
        batch.n_tokens = len(self._slots)
        started = time.perf_counter()
        self._decode()
        for i, slot in enumerate(list(self._slots)):
            self._accept(slot, self._sample(slot, i))
        self.stats.decode_tokens += batch.n_tokens
        self.stats.decode_seconds += time.perf_counter() - started
        self.stats.decode_steps += 1
        self._compact()

    def _compact(self) -> None:
        """Move the highest running sequences into lower free ids until ids are 0..k-1."""
        lc = self._lc
        with self._cv:
            while self._slots and self._free:
                top = max(self._slots, key=lambda slot: slot.seq)
                hole = self._free[0]
                if hole > top.seq:
                    break
                lc.llama_memory_seq_cp(self._mem, top.seq, hole, -1, -1)
                lc.llama_memory_seq_rm(self._mem, top.seq, -1, -1)
                self._free.pop(0)
                self._free.append(top.seq)
                self._free.sort()
                top.seq = hole

    def _decode(self) -> None:
        # on the one thread that runs every model's OpenMP work (ted_graph.models.cpu)
        status = on_compute_thread(self._lc.llama_decode, self._ctx, self._batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed with status {status}")

    def _sample(self, slot: _Slot, index: int) -> int:
        params = slot.request.params
        masking = len(slot.generated) < params.min_tokens
        if slot.sampler is None:  # greedy, no penalty: argmax over the logits row
            import numpy as np

            ptr = self._lc.llama_get_logits_ith(self._ctx, index)
            row = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
            if masking:
                row = row.copy()
                row[self.vocab.eog_tokens()] = -np.inf
            return int(row.argmax())
        if slot.min_tokens_masked and not masking:  # drop the end-of-generation mask
            self._lc.llama_sampler_free(self._lc.llama_sampler_chain_remove(slot.sampler, 0))
            slot.min_tokens_masked = False
        token = self._lc.llama_sampler_sample(slot.sampler, self._ctx, index)
        return int(token)

    def _accept(self, slot: _Slot, token: int) -> None:
        request = slot.request
        if self._lc.llama_vocab_is_eog(self._vocab, token):
            self._finish(slot)
            return
        slot.generated.append(token)
        slot.last = token
        if len(slot.generated) >= request.params.max_tokens:
            self._finish(slot)

    def _finish(self, slot: _Slot) -> None:
        lc = self._lc
        lc.llama_memory_seq_rm(self._mem, slot.seq, -1, -1)
        if slot.sampler is not None:
            lc.llama_sampler_free(slot.sampler)
            slot.sampler = None
        self._slots.remove(slot)
        request = slot.request
        request.outputs[slot.index] = slot.generated
        request.remaining -= 1
        with self._cv:
            self._free.append(slot.seq)
            self._free.sort()
        if request.remaining == 0:
            outputs = [list(o or []) for o in request.outputs]
            request.future.set_result(outputs * request.copies)

    def _fail_all(self, exc: BaseException) -> None:
        """Fail every running and queued request and reset the KV cache (lock held)."""
        for slot in self._slots:
            if slot.sampler is not None:
                self._lc.llama_sampler_free(slot.sampler)
            if not slot.request.future.done():
                slot.request.future.set_exception(exc)
            self._free.append(slot.seq)
        self._free.sort()
        self._slots.clear()
        while self._pending:
            self._pending.popleft().future.set_exception(exc)
        self._lc.llama_memory_clear(self._mem, True)


def _init_backend(lc: Any) -> None:
    global _BACKEND_READY
    with _BACKEND_INIT:
        if not _BACKEND_READY:
            # llama.cpp logs every load to stderr; llama-cpp-python routes it to this logger
            logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
            lc.llama_backend_init()
            _BACKEND_READY = True
