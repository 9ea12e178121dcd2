from ted_graph.library.experience import Experience, experience_id


def test_id_is_stable_and_ignores_case_and_spacing():
    assert experience_id("When X, do Y.") == experience_id("  when x,   do y. ")
    assert experience_id("When X, do Y.") != experience_id("When X, do Z.")
    assert experience_id("a").startswith("exp-")


def test_utility_is_smoothed_and_decays_with_idle_steps():
    fresh = Experience(id="e", text="t")
    assert fresh.utility() == 0.5
    good = Experience(id="e", text="t", helpful=8, harmful=0, last_used_step=10)
    bad = Experience(id="e", text="t", helpful=0, harmful=8, last_used_step=10)
    assert good.utility(10) > 0.85 > 0.15 > bad.utility(10)
    assert good.utility(30) < good.utility(10)  # idle for a half-life halves it
    assert abs(good.utility(30) - good.utility(10) / 2) < 1e-9


def test_metadata_round_trip():
    exp = Experience(id="e", text="t", tags=["a"], source_ids=["p1", "p2"], retrieved=3)
    back = Experience.from_record("e", "t", exp.to_metadata())
    assert back == exp
    assert all(isinstance(v, (str, int, float, bool)) for v in exp.to_metadata().values())
