from ted_graph.distillation.selection import BestVersion, ValidationReport


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


def _first_part(library, table, path, problems):
    """A run's start and step 0 (GOOD added), scored and saved to ``path``; then it dies."""
    first = BestVersion(library, _scorer(table), problems=problems, path=path)
    first.start()
    library.add(GOOD)
    first.after_step(0)


def test_a_resumed_run_goes_on_from_the_saved_scores_and_version(library, tmp_path):
    # the geometric_shapes benchmark's case: a lesson that only ties the student alone,
    # then an interruption; the resumed run must still prefer the empty start
    path = tmp_path / "checkpoint.sqlite.run.validation.json"
    table = {frozenset(): 0.5, frozenset({GOOD}): 0.5, frozenset({GOOD, BAD}): 0.25}
    _first_part(library, table, path, problems=2)  # step 0 ties: the empty library stays
    calls = []

    def score(lib):
        calls.append(lib)
        return _scorer(table)(lib)

    again = BestVersion(library, score, problems=2, path=path)  # the process was killed
    report = again.start(resume=True)
    assert calls == []  # nothing rescored: the saved scores stand
    assert report.scores == [(-1, 0.5), (0, 0.5)] and report.kept_step == -1
    library.add(BAD)
    again.after_step(1)
    report = again.finish()
    assert len(library) == 0 and report.kept_step == -1
    assert report.scores == [(-1, 0.5), (0, 0.5), (1, 0.25)]


def test_without_resume_or_a_saved_file_the_start_is_scored(library, tmp_path):
    path = tmp_path / "v.json"
    library.add(GOOD)
    table = {frozenset(): 0.25, frozenset({GOOD}): 0.5}
    report = BestVersion(library, _scorer(table), problems=2, path=path).start(resume=True)
    assert report.scores == [(-1, 0.5)] and path.exists()  # no file yet: scored, then saved
    library.remove(library.all()[0].id)
    report = BestVersion(library, _scorer(table), problems=2, path=path).start()
    assert report.scores == [(-1, 0.25)]  # a new run overwrites what an old one left


def test_the_saved_best_version_is_restored_after_a_resume(library, tmp_path):
    path = tmp_path / "v.json"
    table = {frozenset(): 0.25, frozenset({GOOD}): 0.5, frozenset({GOOD, BAD}): 0.25}
    _first_part(library, table, path, problems=4)
    again = BestVersion(library, _scorer(table), problems=4, path=path)
    again.start(resume=True)
    library.add(BAD)
    again.after_step(1)
    report = again.finish()  # the version read back from the file
    assert [e.text for e in library.all()] == [GOOD] and report.kept_step == 0
