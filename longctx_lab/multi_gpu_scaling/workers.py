"""Launch real torch.distributed workers from a notebook: free port, timeout, errors surfaced, no orphans.

Each worker is a process with a process group initialised (gloo on CPU, nccl on CUDA), so the same
worker function runs on a laptop (processes stand in for GPUs) and on a GPU node (one process per
GPU, as torchrun would start them). Workers are forked from a fork server that imported the kit once
(spawned where there is no fork server, i.e. Windows), so only the first launch pays for imports.
"""
from __future__ import annotations

import os
import pickle
import queue as queue_module
import socket
import threading
import time
import traceback
from datetime import timedelta
from typing import Any, Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ..core.checked import checked
from ..core.checks import as_int

__all__ = [
    "RemoteTraceback",
    "WorkerError",
    "free_port",
    "hello_worker",
    "pick_backend",
    "rank_device",
    "run_distributed",
]

_PORT_ATTEMPTS = 5
_PORT_BUSY = object()  # sentinel: rank 0 could not listen on the chosen port


class RemoteTraceback(Exception):
    """The traceback text of an exception raised in a worker, attached as the parent-side `__cause__`."""

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str (a worker's traceback), got {type(text).__name__}")
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "\n\n" + self.text


class WorkerError(RuntimeError):
    """A worker failed with an exception that could not be sent back as itself (or died without one)."""


@checked
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@checked
def pick_backend(world_size: int, backend: str | None = None) -> str:
    """The process-group backend: nccl when at least `world_size` CUDA GPUs are present, else gloo.

    Taught in 04_multi_gpu_scaling, § Launching workers.
    """
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if backend is None:
        return "nccl" if gpus >= world_size and dist.is_nccl_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo', 'nccl' or None, got {backend!r}")
    if backend == "nccl" and gpus < world_size:
        raise ValueError(f"backend='nccl' needs one CUDA GPU per rank: world_size={world_size}, GPUs found={gpus}")
    return backend


@checked
def rank_device() -> torch.device:
    """The device this rank computes on: its own GPU under nccl, the CPU under gloo.

    Taught in 04_multi_gpu_scaling, § Launching workers.
    """
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def max_over_ranks(value: float, device: torch.device) -> float:
    """The largest of every rank's `value` (a parallel step ends when its slowest rank ends)."""
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def _is_address_in_use(exc: BaseException) -> bool:
    text = str(exc)
    return "EADDRINUSE" in text or "address already in use" in text.lower()


def _report_error(results: Any, rank: int, exc: BaseException) -> None:
    when = time.time()  # the earliest failure is the cause; later ones are usually peers losing it
    text = traceback.format_exc()
    try:
        payload = pickle.dumps(exc)
        pickle.loads(payload)
    except Exception:
        payload = None
    results.put(("error", rank, (when, type(exc).__name__, str(exc), text, payload)))


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc (macOS): the signal test is all there is
        return True


def _exit_with_parent(parent_pid: int) -> None:
    """Leave as soon as the launching process is gone (a killed kernel must not leave workers behind)."""
    def watch() -> None:
        while _alive(parent_pid):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


# Imported once by the fork server, so a worker starts in milliseconds instead of importing torch and
# transformers again (seconds each): the kit and the modules of its bundled models.
_PRELOAD = ["longctx_lab", "transformers.models.llama.modeling_llama", "transformers.models.bert.modeling_bert"]


def _start_context():
    """How workers start: forked from a fork server that has already imported the kit, else spawned (Windows).

    A plain fork of a notebook kernel would copy its threads' locks mid-use; the fork server is a fresh,
    single-threaded process started once per session, so forking it is safe.
    """
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def _worker(rank: int, world_size: int, port: int, backend: str, threads: int | None, timeout: float,
            fn: Callable, args: tuple, results: Any, parent_pid: int) -> None:
    _exit_with_parent(parent_pid)
    # Catch everything: the parent must hear from every rank, or it would wait until the timeout.
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        if backend == "nccl":
            torch.cuda.set_device(rank)
        dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=world_size, timeout=timedelta(seconds=timeout))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        if rank == 0 and _is_address_in_use(exc):
            results.put(("port_busy", rank, None))
        else:
            _report_error(results, rank, exc)
        return
    try:
        # Plain pickle copies tensors by value; the default queue pickler would share them through
        # memory that disappears when this process exits.
        results.put(("ok", rank, pickle.dumps(fn(rank, world_size, *args))))
    except BaseException as exc:  # noqa: BLE001 - reported before the group closes, re-raised by the parent
        _report_error(results, rank, exc)
    finally:
        dist.destroy_process_group()


def _stop(processes: list, grace: float) -> None:
    """Join every worker; terminate, then kill, whichever does not exit in time."""
    deadline = time.monotonic() + grace
    for proc in processes:
        if proc.pid is not None:
            proc.join(max(0.0, deadline - time.monotonic()))
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        if proc.pid is not None:
            proc.join(2.0)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _remote_exception(rank: int, world_size: int, payload: tuple) -> BaseException:
    _, name, message, text, pickled = payload
    exc = pickle.loads(pickled) if pickled is not None else WorkerError(f"{name}: {message}")
    exc.add_note(f"raised in rank {rank} of {world_size} (run_distributed worker); remote traceback above")
    exc.__cause__ = RemoteTraceback(text)
    return exc


def _launch(fn: Callable, world_size: int, args: tuple, backend: str, timeout: float, threads: int | None,
            port: int) -> Any:
    ctx = _start_context()
    results = ctx.Queue()
    processes = [ctx.Process(target=_worker, daemon=True,
                             args=(rank, world_size, port, backend, threads, timeout, fn, args, results, os.getpid()))
                 for rank in range(world_size)]
    values: dict[int, Any] = {}
    errors: dict[int, tuple] = {}
    errors_deadline = 0.0
    deadline = time.monotonic() + timeout
    finished = False
    try:
        for proc in processes:
            proc.start()
        while len(values) < world_size:
            if errors and (time.monotonic() > errors_deadline or len(values) + len(errors) == world_size):
                first = min(errors, key=lambda r: errors[r][0])
                raise _remote_exception(first, world_size, errors[first])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waiting = sorted(set(range(world_size)) - set(values))
                raise TimeoutError(f"run_distributed: timeout={timeout} s passed before ranks {waiting} of "
                                   f"{world_size} returned; all workers were stopped")
            try:
                kind, rank, payload = results.get(timeout=min(remaining, 0.25))
            except queue_module.Empty:
                crashed = [(r, p.exitcode) for r, p in enumerate(processes)
                           if r not in values and r not in errors and p.exitcode not in (None, 0)]
                if crashed and results.empty():
                    time.sleep(0.5)  # a message may still be in the pipe
                    if results.empty():
                        rank, code = crashed[0]
                        raise WorkerError(f"rank {rank} of {world_size} exited with code {code} without "
                                          "reporting (killed, out of memory or a crash in native code)")
                continue
            if kind == "port_busy":
                return _PORT_BUSY
            if kind == "error":
                if not errors:  # give the other ranks a moment to report, then raise the earliest failure
                    errors_deadline = time.monotonic() + 1.0
                errors[rank] = payload
                continue
            values[rank] = pickle.loads(payload)
        finished = True
    finally:
        _stop(processes, grace=0.5 if finished else 0.0)  # results are in: exiting is all that is left
        results.close()
        results.cancel_join_thread()
    return [values[rank] for rank in range(world_size)]


@checked(timeout=(0, 86400, True), threads=(1, 1024))
def run_distributed(fn: Callable, world_size: int, *args: Any, backend: str | None = None,
                    timeout: float = 120.0, threads: int | None = None, port: int | None = None) -> list:
    """Run `fn(rank, world_size, *args)` in `world_size` worker processes with a process group; return per-rank results.

    `fn` must live in an importable module (workers import it by name; `__main__` of a notebook is
    not importable). The rendezvous uses a free 127.0.0.1 port (`port` if it is free), retried on a
    fresh port if another program grabs it first. After `timeout` seconds every worker is stopped and
    TimeoutError is raised; a worker's exception is re-raised in the parent with the worker's
    traceback as its cause. `threads` sets torch threads per worker (default: cores / world_size).
    Taught in 04_multi_gpu_scaling, § Launching workers.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if module in (None, "__main__", "__mp_main__") or "<" in qualname:
        raise ValueError(f"fn={qualname or fn!r} (module {module!r}) cannot be imported by the worker processes; "
                         "define it at the top level of a module file and import it from there")
    world_size = as_int("world_size", world_size, 1, 64)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    threads = None if threads is None else as_int("threads", threads, 1)
    port = None if port is None else as_int("port", port, 1, 65535)
    backend = pick_backend(world_size, backend)
    if threads is None and backend == "gloo":
        threads = max(1, (os.cpu_count() or 1) // world_size)
    for attempt in range(_PORT_ATTEMPTS):
        chosen = port if attempt == 0 and port is not None and _port_is_free(port) else free_port()
        outcome = _launch(fn, world_size, args, backend, float(timeout), threads, chosen)
        if outcome is not _PORT_BUSY:
            return outcome
    raise RuntimeError(f"run_distributed: {_PORT_ATTEMPTS} ports in a row were taken before rank 0 could listen")


@checked(sleep_s=(0, 3600))
def hello_worker(rank: int, world_size: int, fail_on_rank: int | None = None, sleep_s: float = 0.0) -> dict:
    """Worker: report who and where this rank is (after an all_reduce proves the group works); optionally fail.

    `fail_on_rank` raises a ValueError on that rank, `sleep_s` stalls every rank: what the launcher
    does with errors and timeouts. Taught in 04_multi_gpu_scaling, § Launching workers.
    """
    if rank == fail_on_rank:
        raise ValueError(f"rank {rank} was asked to fail (fail_on_rank={fail_on_rank})")
    time.sleep(sleep_s)
    total = torch.tensor([float(rank)], device=rank_device())
    dist.all_reduce(total)
    return {"rank": rank, "world_size": world_size, "pid": os.getpid(), "backend": dist.get_backend(),
            "threads": torch.get_num_threads(), "sum_of_ranks": int(total.item())}
