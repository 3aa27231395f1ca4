"""Reading documents in several processes: each document is read on its own (no reader looks at another), so a
large build reads them in a pool of forked workers and gets the facts back in input order, as one process would."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

PARALLEL_FROM = 200  # documents; below this, forking workers costs more than it saves
CHUNK = 16  # documents per task: few round trips, workers stay evenly loaded


def default_jobs(documents: int) -> int:
    """Every CPU this process may run on, for a folder large enough to gain from it; else one."""
    return len(os.sched_getaffinity(0)) if documents >= PARALLEL_FROM else 1


def map_in_processes(function, items: list, jobs: int | None = None) -> list:
    """[function(item) for item in items], in `jobs` worker processes when more than one (None: default_jobs). An
    exception a worker raises is raised here, as the serial loop would raise it (the first one in input order)."""
    jobs = default_jobs(len(items)) if jobs is None else jobs
    if jobs <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    # fork: the workers start with the readers and their vocabularies already loaded in the parent
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(function, items, chunksize=max(1, min(CHUNK, len(items) // (jobs * 4)))))
