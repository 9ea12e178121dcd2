import pytest

torch = pytest.importorskip("torch")

from ted_graph.models.local_generation import RowSampler  # noqa: E402


def _draws(sampler, logits, steps):
    tokens = []
    for _ in range(steps):
        out = sampler(None, logits.clone())
        tokens.append(out.argmax(dim=-1).tolist())
    return tokens


def test_a_seeded_row_draws_the_same_tokens_alone_or_beside_others():
    logits = torch.randn(3, 50, generator=torch.Generator().manual_seed(0))
    alone = _draws(RowSampler([0.8], [42]), logits[1:2], 20)
    batched = _draws(RowSampler([0.0, 0.8, 1.0], [7, 42, 9]), logits, 20)
    assert [row[1] for row in batched] == [row[0] for row in alone]
    assert len({row[0] for row in alone}) > 1  # it samples, not a fixed token


def test_greedy_rows_are_left_alone():
    logits = torch.randn(2, 10)
    out = RowSampler([0.0, 0.7], [0, 1])(None, logits.clone())
    assert torch.equal(out[0], logits[0])
    assert int(torch.isfinite(out[1]).sum()) == 1


def test_tokens_outside_the_nucleus_are_never_drawn():
    logits = torch.full((1, 100), -10.0)
    logits[0, 3], logits[0, 5] = 10.0, 8.0  # about 88% and 12% of the mass
    seen = {row[0] for row in _draws(RowSampler([1.0], [1], top_p=0.5), logits, 50)}
    assert seen == {3}
    seen = {row[0] for row in _draws(RowSampler([1.0], [1], top_p=0.99), logits, 200)}
    assert seen == {3, 5}


def test_draws_follow_the_tempered_distribution():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]]))
    draws = [row[0] for row in _draws(RowSampler([1.0], [3], top_p=1.0), logits, 3000)]
    shares = [draws.count(i) / len(draws) for i in range(3)]
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.04)


def test_a_cpu_model_holds_the_shared_lock_for_each_forward_pass_only():
    from ted_graph.models.cpu import CPU_COMPUTE, take_turns

    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x, scale=1):
            seen.append(CPU_COMPUTE.locked())
            if scale == 0:
                raise ValueError("bad input")
            return x * scale

    model = take_turns(Probe())
    assert take_turns(model) is model  # hooks are added once
    assert model(torch.ones(2), scale=3).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError):
        model(torch.ones(1), scale=0)
    assert seen == [True, True] and not CPU_COMPUTE.locked()  # released after a failure too


def test_llamacpp_samples_from_the_same_candidates_by_default():
    """Both backends keep the SAMPLE_TOP_K likeliest tokens before the nucleus cut, and a
    chat model's placement is one of the named ones."""
    from ted_graph.models.llamacpp import ChatLlamaCppBatched
    from ted_graph.models.llamacpp_engine import SamplingParams
    from ted_graph.models.local_generation import SAMPLE_TOP_K, TOP_P

    assert (SamplingParams().top_k, SamplingParams().top_p) == (SAMPLE_TOP_K, TOP_P)
    model = ChatLlamaCppBatched(model_path="unused.gguf", placement="plain")
    assert model.sampling(temperature=0.7).top_k == SAMPLE_TOP_K
    assert model.sampling(top_k=0).top_k == 0  # a call can still switch it off
    with pytest.raises(ValueError):
        ChatLlamaCppBatched(model_path="unused.gguf", placement="fast")
