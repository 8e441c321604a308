"""Peak resident memory of a process tree, sampled (the streaming benchmarks' memory figures).

Usage::

    sampler = PeakMemory(proc.pid); sampler.start(); ...; peak_bytes = sampler.stop()
"""

from __future__ import annotations

import os
import threading
import time


def _tree_peaks(pid: int) -> dict[int, int]:
    """Peak resident memory (VmHWM, bytes) of ``pid`` and each of its descendants."""
    out: dict[int, int] = {}
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        out[p] = int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return out


class PeakMemory(threading.Thread):
    """The peak memory of a process tree: each long-lived process's own peak, summed.

    Sampled every 100 ms. A process seen only once is a helper the JVM spawns for
    a few milliseconds (Hadoop's local file system runs ``chmod`` and ``readlink``
    on checkpoint files); until it execs, it shares the JVM's memory and reports
    all of it, so counting it would count the JVM twice. The sum of per-process
    peaks is an upper bound on the tree's peak.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self._done = pid, threading.Event()
        self._peaks: dict[int, int] = {}
        self._seen: dict[int, int] = {}

    def run(self) -> None:
        while not self._done.is_set():
            for p, hwm in _tree_peaks(self.pid).items():
                self._seen[p] = self._seen.get(p, 0) + 1
                self._peaks[p] = max(self._peaks.get(p, 0), hwm)
            time.sleep(0.1)

    @property
    def peak(self) -> int:
        return sum(v for p, v in self._peaks.items() if self._seen[p] > 1)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak
