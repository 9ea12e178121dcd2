import pytest

from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER, load_chat_model


@pytest.fixture(scope="session")
def student():
    return load_chat_model(DEFAULT_STUDENT)


@pytest.fixture(scope="session")
def real_teacher():
    return load_chat_model(DEFAULT_TEACHER)


@pytest.fixture(scope="session")
def hf_student():
    """The default student on the transformers backend (the reference)."""
    return load_chat_model(f"transformers:{DEFAULT_STUDENT}")
