"""The C heap keeps two arenas, and each step hands the memory it freed back to the operating system
(pipeline/memory.py, decisions 36 and 37)."""

import os
import subprocess
import sys

from pipeline.definitions import defs
from pipeline.jobs import return_freed_memory_after_step
from pipeline.settings import PROJECT_ROOT

# 160 MB in 8 KB blocks (each its own malloc), every other one then freed: holes the heap's top cannot give back,
# which only malloc_trim returns
FRAGMENTED_HEAP = """
from pathlib import Path
from pipeline.memory import return_freed_memory

def resident_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20

blocks = [bytes(8192) for _ in range(20_000)]
del blocks[::2]
before = resident_mb()
assert return_freed_memory()
print(before - resident_mb())
"""


# six threads allocate at once, then glibc's malloc_info lists the heap's arenas ("<heap nr=...>"); with
# "child", the same runs in a process started after the pipeline was imported, which does not import it itself
ARENAS_AFTER_SIX_THREADS = """
import ctypes, os, re, subprocess, sys, tempfile, threading
if sys.argv[1] in ("import", "child"):
    import pipeline
if sys.argv[1] == "child":
    print(subprocess.run([sys.executable, "-c", sys.argv[2], "none"], capture_output=True, text=True).stdout)
    sys.exit()
libc = ctypes.CDLL(None)
libc.fdopen.restype = ctypes.c_void_p
together = threading.Barrier(6)

def allocate():
    together.wait()
    blocks = [bytearray(4096) for _ in range(100)]
    together.wait()

threads = [threading.Thread(target=allocate) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with tempfile.TemporaryFile() as report:
    stream = ctypes.c_void_p(libc.fdopen(os.dup(report.fileno()), b"w"))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    report.seek(0)
    print(len(re.findall(rb'<heap nr="[0-9]+">', report.read())))
"""


def _arenas(how: str, **environment: str) -> int:
    """Arenas after six threads allocated, in a process that imports the pipeline ("import"), does not ("none"), or
    was started by one that did ("child"); MALLOC_ARENA_MAX only as given."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | environment
    child = subprocess.run(
        [sys.executable, "-c", ARENAS_AFTER_SIX_THREADS, how, ARENAS_AFTER_SIX_THREADS],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_the_pipeline_caps_the_heap_at_two_arenas_for_itself_and_the_processes_it_starts() -> None:
    assert _arenas("none") > 2  # glibc's own limit is eight per core
    assert _arenas("import") == 2
    assert _arenas("child") == 2  # a run worker started by a code server that loaded the pipeline
    assert _arenas("import", MALLOC_ARENA_MAX="4") == 4  # the user's own setting stays


def test_every_job_returns_freed_memory_after_each_step() -> None:
    jobs = [job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    assert len(jobs) >= 7
    for job in jobs:
        assert return_freed_memory_after_step in job.hook_defs, job.name


def test_freed_blocks_inside_the_heap_go_back_to_the_operating_system() -> None:
    child = subprocess.run(
        [sys.executable, "-c", FRAGMENTED_HEAP], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    returned_mb = float(child.stdout)
    # 78 MB freed; about 39 MB come back, the whole pages inside each 8 KB hole (without the trim: none)
    assert returned_mb > 25, returned_mb
