"""llama-cpp-python's OpenAI-compatible server, loading weights as ted-graph does.

    python -m ted_graph.models.llamacpp_server --model MODEL.gguf --port 8080

Takes every option of ``python -m llama_cpp.server`` (needs ``ted-graph[server]``). The
only difference: weights are placed by :mod:`ted_graph.models.llamacpp_cpu`, so the server
does not take llama.cpp's AMX path, which crashes some AMX machines.
"""

from __future__ import annotations

import runpy


def main() -> None:
    from ted_graph.models.llamacpp_cpu import patch_llama_cpp_loader

    patch_llama_cpp_loader()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
