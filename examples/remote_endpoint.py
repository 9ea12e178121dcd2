"""Student and teacher behind an OpenAI-compatible server (vLLM, llama.cpp's server, TGI).

Start a server, e.g. llama.cpp's with the embedded student's weights:

    GGUF=$(python -c "from ted_graph.models import resolve_gguf as r; print(r('smollm2-135m'))")
    python -m ted_graph.models.llamacpp_server --port 8080 --model_alias smollm2 --model "$GGUF"

(``ted_graph.models.llamacpp_server`` is ``python -m llama_cpp.server`` with the weight
placement that does not crash AMX machines; any other server works the same.)

then distil and evaluate through it:

    python examples/remote_endpoint.py --student http://localhost:8080/v1

Any spec works for either role: ``openai:<model>@<base_url>``, a bare ``.../v1`` URL (the
server's first model), or a local spec such as ``qwen2.5-coder-0.5b``.
"""

from __future__ import annotations

import argparse

from ted_graph import ExperienceLibrary, distill, evaluate, load_dataset
from ted_graph.data import split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="http://localhost:8080/v1")
    parser.add_argument("--teacher", default=None, help="default: the student's endpoint")
    parser.add_argument("--task", default="bigbench:object_counting")
    parser.add_argument("--train", type=int, default=4)
    parser.add_argument("--test", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=128, help="per student answer")
    args = parser.parse_args()

    train, test = split(load_dataset(args.task), train=args.train, test=args.test, seed=0)
    library = ExperienceLibrary.in_memory()
    result = distill(
        args.student,
        args.teacher or args.student,
        train,
        library=library,
        epochs=1,
        n=2,
        batch_size=args.train,
        student_max_tokens=args.max_tokens,
        teacher_max_tokens=args.max_tokens * 3 // 2,
    )
    print(result.summary())
    for name, usage in result.usage.items():
        print(f"[usage] {name}: {usage['calls']} calls, ~{usage['total_tokens']} tokens")
    alone = evaluate(args.student, test, max_tokens=args.max_tokens, progress=False)
    with_ted = evaluate(
        args.student, test, library=library, max_tokens=args.max_tokens, progress=False
    )
    print(f"[eval] student alone {alone}; with the library {with_ted}")


if __name__ == "__main__":
    main()
