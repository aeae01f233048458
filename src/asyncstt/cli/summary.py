"""The table `asyncstt batch` ends with: how many files, how many hours of audio, and each failure's reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncstt.cli.tables import print_table

TOTALS_COLUMNS = ("files", "written", "already written", "failed", "audio hours")
FAILURE_COLUMNS = ("file", "operation", "reason")


@dataclass(frozen=True)
class Failure:
    """A file without a result: the operation it got (empty when the submit was refused) and why."""

    name: str
    operation_id: str
    reason: str


@dataclass
class Summary:
    """What one run did with the audio it found under the prefix."""

    files: int = 0
    #: Names written by this run, with the seconds of audio each held.
    written: dict[str, float] = field(default_factory=dict)
    #: Names an earlier run had written, left as they are.
    already_written: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def audio_hours(self) -> float:
        """Hours of audio recognised by this run."""
        return sum(self.written.values()) / 3600

    def totals_row(self) -> tuple[str, ...]:
        return (
            str(self.files),
            str(len(self.written)),
            str(len(self.already_written)),
            str(len(self.failures)),
            f"{self.audio_hours:.3f}",
        )

    def failure_rows(self) -> list[tuple[str, ...]]:
        return [
            (failure.name, failure.operation_id or "-", failure.reason)
            for failure in sorted(self.failures, key=lambda failure: failure.name)
        ]

    def print(self) -> None:
        """The totals, then the failures if any (a rich table on a terminal, tab-separated when piped)."""
        print_table("batch", TOTALS_COLUMNS, [self.totals_row()])
        if self.failures:
            print_table("failures", FAILURE_COLUMNS, self.failure_rows())
