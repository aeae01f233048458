"""How a benchmark files its section in bench/RESULTS.md (bench/measure.py): its own section only."""

from __future__ import annotations

from pathlib import Path

from bench.measure import update_section

HEADING = "## Operation polls over gRPC and REST"
OTHERS = "# Benchmark results\n\nintro\n\n## Cluster\n\ncluster figures\n"


def test_a_first_run_adds_the_section_after_the_others(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(OTHERS)
    update_section(HEADING, "first", results)
    assert results.read_text() == OTHERS + f"\n{HEADING}\n\nfirst\n"


def test_a_rerun_replaces_only_its_own_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    after = "## Later\n\nlater figures\n"
    results.write_text(
        f"{OTHERS}\n{HEADING}\n\nold figures\nmore\n\n### a table of its own\n\n{after}"
    )
    update_section(HEADING, "new figures", results)
    assert results.read_text() == f"{OTHERS}\n{HEADING}\n\nnew figures\n\n{after}"


def test_without_a_results_file_it_starts_one(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    update_section(HEADING, "figures", results)
    assert results.read_text() == f"# Benchmark results\n\n{HEADING}\n\nfigures\n"
