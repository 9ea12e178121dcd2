from ted_graph.selection import BestVersion, ValidationReport


def _scorer(table):
    """Accuracy by the set of texts in the library (None: the student alone)."""

    def score(library):
        texts = frozenset() if library is None else frozenset(e.text for e in library.all())
        return table[texts]

    return score


GOOD = "When counting objects, list each item with its quantity before adding."
BAD = "When counting objects, count each type only once, however many there are."


def test_a_step_that_hurts_is_undone_and_the_best_version_kept(library):
    table = {frozenset(): 0.25, frozenset({GOOD}): 0.5, frozenset({GOOD, BAD}): 0.25}
    best = BestVersion(library, _scorer(table), problems=4)
    best.start()
    library.add(GOOD)
    assert best.after_step(0) == 0.5
    library.add(BAD)
    assert best.after_step(1) == 0.25
    report = best.finish()
    assert [e.text for e in library.all()] == [GOOD]
    assert report.kept_step == 0 and report.kept == 0.5 and report.helped
    assert report.scores == [(-1, 0.25), (0, 0.5), (1, 0.25)]
    assert "after step 0" in report.summary() and "did not help" not in report.summary()


def test_a_library_that_never_beats_the_start_is_returned_as_it_started(library):
    library.add(GOOD)
    table = {frozenset(): 0.5, frozenset({GOOD}): 0.5, frozenset({GOOD, BAD}): 0.5}
    best = BestVersion(library, _scorer(table), problems=2)
    best.start()
    library.add(BAD)
    best.after_step(0)  # a tie does not replace the earlier version
    report = best.finish()
    assert [e.text for e in library.all()] == [GOOD]
    assert report.kept_step == -1 and not report.helped
    assert "did not help on validation" in report.summary()


def test_an_empty_library_is_not_scored_twice(library):
    calls = []

    def score(lib):
        calls.append(lib)
        return 0.0

    BestVersion(library, score, problems=1).start()
    assert calls == [None]


def test_the_report_round_trips_through_a_dict():
    report = ValidationReport(3, 0.0, [(-1, 0.0), (0, 1 / 3)], kept_step=0)
    again = ValidationReport(**{**report.to_dict(), "scores": [(-1, 0.0), (0, 1 / 3)]})
    assert again == report and again.kept == 1 / 3
