"""Start a server process for a test (integration and reliability) and wait until it
listens on localhost."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, name: str, timeout: float = 120) -> None:
    """Wait until ``proc`` listens on ``port``; fail the test if it exits or takes too long."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with code {proc.returncode} before listening")
        time.sleep(0.5)
    pytest.fail(f"{name} did not start within {timeout:.0f} s")


@contextlib.contextmanager
def serving(command: list[str], name: str, port: int, **popen: Any) -> Iterator[subprocess.Popen]:
    """Run a server process for the duration of the block."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(command, **popen)
    try:
        wait_for_port(port, proc, name)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


@contextlib.contextmanager
def chroma_server(path: Any) -> Iterator[int]:
    """``chroma run`` on a free localhost port with its data under ``path``; yields the port."""
    import shutil

    exe = shutil.which("chroma")
    if exe is None:
        pytest.fail("the `chroma` command (installed with chromadb) is missing")
    port = free_port()
    command = [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, "chroma run", port):
        yield port
