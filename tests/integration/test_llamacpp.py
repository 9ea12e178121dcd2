"""The llama.cpp backend on the real packaged student: batching, sampling, limits."""

import threading

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from ted_graph.models import (
    FAST_STUDENT,
    ChatLlamaCppBatched,
    generate,
    load_chat_model,
    resolve_gguf,
    resolve_weights,
)
from ted_graph.models.generation import to_chat_dicts
from ted_graph.models.llamacpp_engine import LlamaEngine, SamplingParams

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model() -> ChatLlamaCppBatched:
    chat = load_chat_model(f"llamacpp:{FAST_STUDENT}")
    assert isinstance(chat, ChatLlamaCppBatched)
    return chat


def test_auto_backend_picks_llamacpp_for_packaged_weights():
    assert isinstance(load_chat_model(FAST_STUDENT), ChatLlamaCppBatched)


def test_prompt_tokens_match_the_transformers_chat_template(model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_weights(FAST_STUDENT))
    messages = [HumanMessage("How many legs do two cats have?")]
    text = tokenizer.apply_chat_template(
        to_chat_dicts(messages), add_generation_prompt=True, tokenize=False
    )
    expected = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert model.prompt_tokens(messages) == expected


def test_invoke_returns_text_and_usage(model):
    reply = model.invoke("Name a primary colour.", max_tokens=16)
    assert isinstance(reply, AIMessage) and reply.content.strip()
    usage = reply.usage_metadata
    assert usage["input_tokens"] > 5 and 0 < usage["output_tokens"] <= 16


def test_concurrent_requests_share_forward_passes(model):
    engine = model.engine
    prompts = [[HumanMessage(f"Count from {i} to {i + 20}.")] for i in range(4)]
    results: dict[int, list[str]] = {}
    before = engine.stats.decode_steps

    def ask(i: int) -> None:
        results[i] = generate(model, [prompts[i]], max_tokens=24, min_tokens=24)[0]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    steps = engine.stats.decode_steps - before
    assert sorted(results) == [0, 1, 2, 3] and all(r[0] for r in results.values())
    # 4 x 23 decode steps if run one after another; merged, far fewer
    assert steps < 2 * 23


def test_sampled_rollouts_follow_the_seed(model):
    prompt = [[HumanMessage("Write one word that rhymes with cat.")]]
    first = generate(model, prompt, n=4, temperature=1.0, max_tokens=12, seed=7)
    again = generate(model, prompt, n=4, temperature=1.0, max_tokens=12, seed=7)
    other = generate(model, prompt, n=4, temperature=1.0, max_tokens=12, seed=8)
    assert first == again and len(first[0]) == 4
    assert len(set(first[0])) > 1 and other != first


def test_completions_end_before_a_stop_string_through_generate_and_generate_iter(model):
    from ted_graph.models import generate_iter

    prompt = [[HumanMessage("Count from 1 to 10.")]]
    whole = generate(model, prompt, max_tokens=40)[0][0]
    words = whole.split()
    assert len(words) >= 3, whole
    stop = words[2]  # a string the real model's greedy answer holds
    cut = whole[: whole.index(stop)]  # up to its first occurrence, as the stop means
    assert generate(model, prompt, max_tokens=40, stop=[stop]) == [[cut]]
    assert dict(generate_iter(model, prompt, max_tokens=40, stop=[stop])) == {0: [cut]}


@pytest.mark.parametrize("penalty", [1.0, 1.2])
def test_min_and_max_tokens_are_exact(model, penalty):
    engine = model.engine
    tokens = model.prompt_tokens([HumanMessage("Say hi.")])
    params = SamplingParams(max_tokens=10, min_tokens=10, repetition_penalty=penalty)
    (outputs,) = engine.generate([tokens], 2, params)
    assert [len(o) for o in outputs] == [10, 10]


def test_requests_that_cannot_fit_are_refused_clearly():
    engine = LlamaEngine(resolve_gguf(FAST_STUDENT), n_ctx=256, n_parallel=2)
    try:
        with pytest.raises(ValueError, match="n_ctx"):
            engine.submit(list(range(1000, 1200)), 1, SamplingParams(max_tokens=100))
        with pytest.raises(ValueError, match="empty"):
            engine.submit([], 1, SamplingParams())
        assert engine.generate([list(range(1000, 1010))], 1, SamplingParams(max_tokens=3))
    finally:
        engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        engine.submit([1, 2, 3], 1, SamplingParams())


def test_weights_are_placed_without_amx_and_repacked_where_llama_cpp_can():
    """On a build with AMX, "auto" skips llama.cpp's AMX path (it crashes there) and keeps
    the REPACK kernels; a Q4_0 copy is repacked and answers like plain CPU buffers."""
    import llama_cpp as lc

    from ted_graph.models.llamacpp import requantize
    from ted_graph.models.llamacpp_cpu import build_features, repack_tensors

    features = build_features(lc)
    engine = LlamaEngine(resolve_gguf(FAST_STUDENT), n_ctx=256, n_parallel=1)
    assert engine.placement == ("repack" if features.get("AMX_INT8") else "llama.cpp")
    engine.close()
    q4_0 = requantize(resolve_gguf(FAST_STUDENT), "q4_0")
    if features.get("AVX2"):
        names = repack_tensors(q4_0, features)
        assert any(n.endswith("ffn_down.weight") for n in names)
        assert not any(n.startswith("token_embd") for n in names)
    text = "The capital of France is Paris. The capital of Italy is"
    outputs = {}
    for placement in ("repack", "plain"):
        engine = LlamaEngine(q4_0, n_ctx=256, n_parallel=1, placement=placement)
        out = engine.generate([engine.tokenize(text)], 1, SamplingParams(max_tokens=8))
        outputs[placement] = engine.detokenize(out[0][0])
        engine.close()
    # same weights, other kernels (activations rounded differently): the same start
    assert outputs["repack"].split()[:2] == outputs["plain"].split()[:2], outputs


def test_the_writer_grammar_makes_every_answer_parse(model):
    """Even the 135M model, which rarely writes valid JSON, answers in the grammar."""
    from ted_graph.models.grammar import operations_grammar
    from ted_graph.models.structured import OperationBatch, parse_json_object

    prompt = [HumanMessage("Write lessons about counting objects as JSON operations.")]
    outputs = generate(model, [prompt], n=3, max_tokens=400, temperature=0.8, seed=1,
                       grammar=operations_grammar(2, 30))[0]  # fmt: skip
    for text in outputs:
        batch = OperationBatch.model_validate(parse_json_object(text, ["operations"]))
        assert len(batch.operations) <= 2
        lessons = [o.text for o in batch.operations if o.op in ("ADD", "UPDATE")]
        assert all(t.startswith("When ") and "<" not in t for t in lessons)
        assert all(o.text is None and o.id for o in batch.operations if o.op == "DELETE")


def test_a_grammar_that_does_not_parse_is_refused_and_the_engine_goes_on(model):
    engine = model.engine
    tokens = engine.tokenize("Say yes.")
    with pytest.raises(ValueError, match="could not parse the grammar"):
        engine.submit(tokens, 1, SamplingParams(max_tokens=4, grammar="root ::= ("))
    out = engine.generate([tokens], 1, SamplingParams(max_tokens=4, grammar='root ::= "yes"'))
    assert engine.detokenize(out[0][0]) == "yes"
