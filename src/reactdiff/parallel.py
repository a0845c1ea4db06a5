"""Spreading per-clip work (``prepare``, ``extract``) over processes and machines.

- ``--workers N``: a process pool on this machine (spawn, not fork: the parent may hold torch or
  OpenMP threads, which fork does not copy safely). Each clip's files are written by one process,
  atomically, so workers never share a file.
- ``--shard I/N``: only the jobs whose position in the (sorted) job list is I mod N, so N commands,
  e.g. the tasks of a cluster job array, split a dataset between them and write into one store.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence, TypeVar

from reactdiff.errors import ConfigError

Job = TypeVar("Job")


def parse_shard(shard: str) -> tuple[int, int] | None:
    """``"I/N"`` as ``(I, N)`` with 0 <= I < N; None for an empty setting; a ConfigError otherwise."""
    if not shard:
        return None
    parts = shard.split("/")
    try:
        index, count = (int(part) for part in parts)
        if len(parts) != 2 or count < 1 or not 0 <= index < count:
            raise ValueError
    except ValueError:
        raise ConfigError(f"shard: {shard!r} is not I/N with 0 <= I < N (e.g. 0/4 for the first of four shards)") from None
    return index, count


def shard_jobs(jobs: Sequence[Job], shard: str) -> list[Job]:
    """The jobs of shard ``"I/N"`` (all of them for an empty setting)."""
    parsed = parse_shard(shard)
    return list(jobs) if parsed is None else list(jobs)[parsed[0] :: parsed[1]]


def check_workers(workers: int) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers: {workers!r} must be a positive integer")
    return workers


def run_jobs(function: Callable[..., Any], jobs: Iterable[tuple], workers: int, on_result: Callable[[Any], None]) -> None:
    """``function(*job)`` for every job, in this process (``workers`` 1) or in a pool of ``workers``
    processes (``function`` must then be importable: a module-level function). ``on_result`` gets
    every result in the parent as it arrives; the first exception stops the run and is raised here
    (a DataError keeps the file it names)."""
    jobs = list(jobs)
    if check_workers(workers) == 1 or len(jobs) < 2:
        for job in jobs:
            on_result(function(*job))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(function, *job) for job in jobs]
        for future in as_completed(futures):
            on_result(future.result())
