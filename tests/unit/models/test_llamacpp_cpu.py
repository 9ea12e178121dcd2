"""Weight placement for llama.cpp: never its AMX path by default, REPACK kept."""

import re

import pytest

from ted_graph.models.llamacpp_cpu import _patterns, build_features, resolve_placement

AMX = b"CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 | "
AVX2 = b"CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | REPACK = 1 | "


class FakeLlamaCpp:
    def __init__(self, info: bytes) -> None:
        self.info = info

    def llama_print_system_info(self) -> bytes:
        return self.info


def test_build_features_are_read_from_the_system_info():
    assert build_features(FakeLlamaCpp(AMX)) == {
        "SSE3": True, "AVX2": True, "AVX512": True, "AMX_INT8": True, "REPACK": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    "info, asked, env, chosen",
    [
        (AMX, None, None, "repack"),  # AMX build: never llama.cpp's AMX path by default
        (AVX2, None, None, "llama.cpp"),  # elsewhere llama.cpp chooses
        (AMX, None, "plain", "plain"),
        (AMX, "plain", "repack", "plain"),  # an argument beats the environment
        (AVX2, "auto", None, "llama.cpp"),
    ],
)
def test_placement_by_build_argument_and_environment(monkeypatch, info, asked, env, chosen):
    if env is None:
        monkeypatch.delenv("TED_LLAMACPP_WEIGHTS", raising=False)
    else:
        monkeypatch.setenv("TED_LLAMACPP_WEIGHTS", env)
    assert resolve_placement(FakeLlamaCpp(info), asked) == chosen


def test_a_bad_placement_names_the_choices(monkeypatch):
    monkeypatch.setenv("TED_LLAMACPP_WEIGHTS", "fast")
    with pytest.raises(ValueError, match=r"one of auto, llama\.cpp, repack, plain.*TED_LLAMACPP"):
        resolve_placement(FakeLlamaCpp(AMX))


def test_asking_for_amx_on_an_amx_build_warns(monkeypatch, caplog):
    monkeypatch.delenv("TED_LLAMACPP_WEIGHTS", raising=False)
    assert resolve_placement(FakeLlamaCpp(AMX), "llama.cpp") == "llama.cpp"
    assert "AMX kernels are enabled" in caplog.text


def test_override_patterns_match_exactly_the_chosen_tensors():
    names = ["blk.0.ffn_down.weight", "blk.12.ffn_down.weight", "blk.1.attn_q.weight",
             "output.weight"]  # fmt: skip
    patterns = [re.compile(p) for p in _patterns(names)]
    assert len(patterns) == 3  # one per kind of tensor, not one per tensor
    others = ["blk.2.ffn_down.weight", "blk.0.ffn_down.weight.x", "blk.1.attn_q.bias",
              "token_embd.weight", "blk.120.ffn_down.weight"]  # fmt: skip
    assert all(any(p.search(n) for p in patterns) for n in names)
    assert not any(p.search(n) for p in patterns for n in others)
