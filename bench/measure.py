"""What every benchmark records beside its figures: the machine's load, a process tree's peak memory, and the
results file, one section per benchmark."""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@contextmanager
def sampling(interval: float, sample: Callable[[], None]) -> Iterator[None]:
    """Call `sample` at the start, every `interval` seconds on a thread of its own, and at the end."""
    stop = threading.Event()

    def repeat() -> None:
        while not stop.wait(interval):
            sample()

    sample()
    thread = threading.Thread(target=repeat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sample()


@dataclass
class LoadWatch:
    """Samples the 1-minute load average once a second while a measurement runs."""

    samples: list[float] = field(default_factory=list)

    @contextmanager
    def watch(self) -> Iterator[LoadWatch]:
        with sampling(1.0, self.sample):
            yield self

    def sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        return {
            "start": round(self.samples[0], 2),
            "mean": round(sum(self.samples) / len(self.samples), 2),
            "max": round(max(self.samples), 2),
        }

    def text(self) -> str:
        """`start / mean / max`, as the results tables print it."""
        return load_text(self.summary())


def load_text(figures: dict[str, float]) -> str:
    return f"{figures['start']:.1f} / {figures['mean']:.1f} / {figures['max']:.1f}"


@dataclass
class PeakRss:
    """The peak of the summed RSS of one process and all its descendants, sampled every 0.2 s, and the CPU
    time each of them spent while watched."""

    pid: int
    peak: int = 0
    #: Each process's own peak, by pid (the root first), so a result can say which process held what.
    each: dict[int, int] = field(default_factory=dict)
    #: Each process's CPU seconds (user + system) when first and last seen.
    cpu: dict[int, tuple[float, float]] = field(default_factory=dict)

    @contextmanager
    def watch(self) -> Iterator[PeakRss]:
        with sampling(0.2, self.sample):
            yield self

    def sample(self) -> None:
        with suppress(psutil.Error):
            root = psutil.Process(self.pid)
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with suppress(psutil.Error):
                    rss = process.memory_info().rss
                    times = process.cpu_times()
                    total += rss
                    self.each[process.pid] = max(self.each.get(process.pid, 0), rss)
                    spent = times.user + times.system
                    self.cpu[process.pid] = (self.cpu.get(process.pid, (spent, spent))[0], spent)
            self.peak = max(self.peak, total)

    @property
    def gib(self) -> float:
        return self.peak / 1024**3

    def breakdown(self) -> str:
        """Each process's own peak in MiB, the server's first, then the largest (peaks need not coincide)."""
        root = self.each.get(self.pid, 0)
        others = sorted((rss for pid, rss in self.each.items() if pid != self.pid), reverse=True)
        return " + ".join(f"{rss / 1024**2:.0f}" for rss in [root, *others]) + " MiB"

    def cpu_breakdown(self) -> str:
        """Each process's CPU seconds while watched, the server's first, then the largest."""
        spent = {pid: last - first for pid, (first, last) in self.cpu.items()}
        root = spent.pop(self.pid, 0.0)
        others = sorted(spent.values(), reverse=True)
        return " + ".join(f"{seconds:.1f}" for seconds in [root, *others]) + " s"


def machine() -> str:
    """The machine in one phrase: architecture, cores, memory, Python."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 1024**3:.0f} GiB, Python {platform.python_version()}"
    )


def update_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Replace the section that starts with the line `heading` (`## …`) up to the next `## ` heading, or append it.

    Each benchmark owns its sections, so rerunning one leaves every other section as it was.
    """
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{heading}\n\n{body.strip()}\n"
    start = text.find(heading + "\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + block)
        return
    following = text.find("\n## ", start + len(heading))
    rest = "" if following < 0 else text[following + 1 :]
    path.write_text(text[:start] + block + ("\n" + rest if rest else ""))
