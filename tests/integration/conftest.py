import sys
from collections.abc import Iterator

import pytest
from servers import free_port, serving

from ted_graph.models import FAST_STUDENT, FAST_TEACHER, load_chat_model


@pytest.fixture(scope="session")
def student():
    return load_chat_model(FAST_STUDENT)


@pytest.fixture(scope="session")
def real_teacher():
    return load_chat_model(FAST_TEACHER)


@pytest.fixture(scope="session")
def hf_student():
    """The default student on the transformers backend (the reference)."""
    return load_chat_model(f"transformers:{FAST_STUDENT}")


@pytest.fixture(scope="session")
def llama_endpoint() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with the embedded student, on localhost
    (llama-cpp-python's server through ted-graph's launcher, safe on AMX machines)."""
    import llama_cpp.server  # noqa: F401  (the test extra's llama-cpp-python[server])

    from ted_graph.models import resolve_gguf

    port = free_port()
    command = [
        sys.executable, "-m", "ted_graph.models.llamacpp_server",
        "--model", resolve_gguf(FAST_STUDENT),
        "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096",
    ]  # fmt: skip
    with serving(command, "llama_cpp.server", port):
        yield f"http://127.0.0.1:{port}/v1"
