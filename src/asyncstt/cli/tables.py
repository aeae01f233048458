"""How the administration commands print what they list: a table on a terminal, tab-separated when piped."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime


def when(moment: datetime | None, empty: str = "") -> str:
    """A moment to the second, or `empty` for none."""
    return moment.isoformat(timespec="seconds") if moment is not None else empty


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; tab-separated lines, header first, when piped (for scripts)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    print("\t".join(columns))
    for row in rows:
        # One line per row whatever a cell holds (a refusal's message may span lines).
        print("\t".join(" ".join(cell.split()) for cell in row))
