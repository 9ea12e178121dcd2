"""How often a Chroma server answers a query with a record another process is deleting.

    python benchmarks/chroma_delete_race.py [--seconds 20]

Starts ``chroma run`` on a free localhost port. One process adds and deletes records in a
loop while this one queries. It counts the results that come back with an id but no
document or metadata: these "ghosts" are why ``ExperienceLibrary.search`` skips results
without a document (docs/reliability.md). The count varies from run to run.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import chromadb
import numpy as np

WRITER = """
import sys, time
import chromadb, numpy as np
col = chromadb.HttpClient(port=int(sys.argv[1])).get_collection("race")
rng, end, i = np.random.default_rng(1), time.time() + float(sys.argv[2]), 0
while time.time() < end:
    col.add(ids=[f"x{i}"], embeddings=rng.random((1, 8)).tolist(), documents=[f"X{i}"],
            metadatas=[{"status": "active"}])
    col.delete(ids=[f"x{i}"])
    i += 1
print(i)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as db:
        server = subprocess.Popen(
            [shutil.which("chroma") or "chroma", "run", "--path", db, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(240):  # the client connects when created: wait for the port
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.5)
            client = chromadb.HttpClient(port=port)
            col = client.create_collection(
                "race", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            rng = np.random.default_rng(0)
            col.add(ids=["a", "b"], embeddings=rng.random((2, 8)).tolist(), documents=["A", "B"],
                    metadatas=[{"status": "active"}] * 2)  # fmt: skip
            writer = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(port), str(args.seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            queries = ghosts = 0
            end = time.time() + args.seconds
            while time.time() < end:
                res = col.query(query_embeddings=rng.random((1, 8)).tolist(), n_results=3,
                                include=["documents", "metadatas"])  # fmt: skip
                queries += 1
                ghosts += any(
                    not doc or meta is None
                    for doc, meta in zip(res["documents"][0], res["metadatas"][0], strict=True)
                )
            writes = int(writer.communicate(timeout=60)[0].strip() or 0)
        finally:
            server.terminate()
            server.wait(30)
    print(f"{queries} queries during {writes} add+delete pairs in {args.seconds:.0f} s: "
          f"{ghosts} answered with a deleted record (no document)")  # fmt: skip


if __name__ == "__main__":
    main()
