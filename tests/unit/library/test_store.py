"""The library kept in a LangGraph BaseStore behaves as it does on Chroma."""

import pytest
from langgraph.store.memory import InMemoryStore

from ted_graph.distillation.run import distill
from ted_graph.library.library import ExperienceLibrary

COUNT = "When counting objects, list each item with its quantity first."
ORDER = "When ordering objects from clues, place them on a line one clue at a time."


@pytest.fixture
def store_library():
    return ExperienceLibrary.from_store(InMemoryStore(), namespace=("ted", "test"))


def test_every_operation_matches_a_chroma_library(store_library, library):
    for lib in (store_library, library):
        a = lib.add(COUNT, source_ids=["p1"])
        b = lib.add(ORDER)
        lib.record_usage({a.id: (4, 3, 1)}, step=2)
        lib.update(b.id, ORDER + " Check every clue at the end.", step=3)
        lib.merge([a.id], COUNT + " Then add them.", step=4)
        snap = lib.snapshot()
        lib.remove(b.id, step=5)
        assert lib.restore(snap) == 1
    assert store_library.snapshot() == library.snapshot()
    for query in ("how many fruits do I have?", "who finished third?"):
        got = [(e.id, round(s, 4)) for e, s in store_library.search(query, k=2)]
        want = [(e.id, round(s, 4)) for e, s in library.search(query, k=2)]
        assert got == want
    assert len(store_library) == len(library) == 2
    assert [e.status for e in store_library.all(status="merged")] == ["merged"]


def test_the_records_live_in_the_store_under_the_namespace():
    store = InMemoryStore()
    lib = ExperienceLibrary.from_store(store, namespace=("ted", "math"))
    exp = lib.add(COUNT)
    item = store.get(("ted", "math", "ted_experiences"), exp.id)
    assert item.value["document"] == COUNT and len(item.value["embedding"]) == 384
    # a second library object on the same store sees it
    again = ExperienceLibrary.from_store(store, namespace=("ted", "math"))
    assert again.get(exp.id).text == COUNT
    assert len(ExperienceLibrary.from_store(store, namespace=("ted", "other"))) == 0


def test_distillation_writes_into_a_store(make_model, teacher, problems):
    lib = ExperienceLibrary.from_store(InMemoryStore())
    result = distill(
        make_model(lambda p: "Answer: 99"),
        teacher,
        problems[:2],
        library=lib,
        epochs=1,
        n=1,
        progress=False,
        verify=False,  # every valid lesson enters: the store's writes are under test
    )
    assert len(result.experiences) == 1 and len(lib) == 1


def test_a_non_store_is_refused():
    with pytest.raises(TypeError, match="BaseStore"):
        ExperienceLibrary.from_store({"not": "a store"})
