"""Start a Jupyter server (JupyterLab or Voila) for a test on a free 127.0.0.1 port, and stop it with its kernels."""
from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a *_proxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def root_flag() -> list[str]:
    """Jupyter refuses to run as root without --allow-root (CI containers run as root)."""
    return ["--allow-root"] if os.geteuid() == 0 else []


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with LOCAL.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server we started, and the kernels it started (they share its process group)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


@contextmanager
def serving(command: list[str], port: int, ready_path: str, cwd: Path, env: dict[str, str],
            log: Path) -> Iterator[str]:
    """Run `command` (which listens on `port`) until `ready_path` answers 200; yield the base URL, then stop it."""
    with log.open("w") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + ready_path, process, log)
        yield base
    finally:
        stop(process)
