"""Stopping a service started in its own process group (`start_new_session=True`), and what it leaves behind."""

import os
import subprocess
import time


def group_members(pgid: int) -> list[str]:
    """Process ids still in the group."""
    return subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()


def stop_group(process: subprocess.Popen, signal_number: int, wait_seconds: float) -> list[str]:
    """Signal the whole group, wait for its leader, then up to a minute for the children (they exit after the
    leader; slowly on a loaded 2-core machine). Returns the processes left behind."""
    os.killpg(process.pid, signal_number)
    process.wait(timeout=wait_seconds)
    deadline = time.monotonic() + 60
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return group_members(process.pid)
