import pytest

from ted_graph.config import DistillConfig


def test_defaults_match_the_design():
    cfg = DistillConfig()
    assert (cfg.k, cfg.n, cfg.temperature, cfg.epochs, cfg.max_size) == (5, 5, 0.7, 3, 50)
    assert cfg.merge_threshold == 0.85


@pytest.mark.parametrize(
    "field, value",
    [("n", 0), ("epochs", 0), ("k", -1), ("temperature", -1.0), ("min_similarity", 2.0)],
)
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DistillConfig(**{field: value})


def test_updated_ignores_none_and_rejects_unknown():
    cfg = DistillConfig().updated(n=2, k=None)
    assert cfg.n == 2 and cfg.k == 5
    with pytest.raises(TypeError):
        DistillConfig().updated(nope=1)
