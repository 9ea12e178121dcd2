"""The library on a real Chroma server (`chroma run`) on localhost."""

import pytest
from servers import chroma_server

from ted_graph import ExperienceLibrary

pytestmark = pytest.mark.integration


@pytest.fixture
def chroma(tmp_path):
    with chroma_server(tmp_path / "db") as port:
        yield port


def test_library_on_a_chroma_server(chroma):
    lib = ExperienceLibrary.connect("127.0.0.1", chroma, collection="ted_server_test")
    exp = lib.add("When counting listed objects, count every named item once.", source_ids=["p1"])
    lib.add("When ordering objects from clues, place them on a line one clue at a time.")
    lib.record_usage({exp.id: (5, 4, 0)}, step=2)
    # a second client (another process would do the same) sees the same records
    other = ExperienceLibrary.connect("127.0.0.1", chroma, collection="ted_server_test")
    hits = other.search("How many fruits do I have?", k=1)
    assert hits[0][0].id == exp.id and other.get(exp.id).helpful == 4
    assert len(other) == 2
    assert lib.fold_usage() == 1  # usage on a server is an event until the writer folds it
    assert other.search("How many fruits do I have?", k=1)[0][0].helpful == 4
