"""How the gRPC poll benchmark (bench/grpc_polls.py) files its section in RESULTS.md: its own section only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_PATH = Path(__file__).resolve().parents[2] / "bench" / "grpc_polls.py"


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_grpc_polls", _PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


polls = _load_module()
OTHERS = "# Benchmark results\n\nintro\n\n## Cluster\n\ncluster figures\n"


def test_a_first_run_adds_the_section_after_the_others(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(OTHERS)
    polls.write_section([polls.HEADING, "", "first"], results)
    assert results.read_text() == OTHERS + f"\n{polls.HEADING}\n\nfirst\n"


def test_a_rerun_replaces_only_its_own_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    after = "## Later\n\nlater figures\n"
    results.write_text(f"{OTHERS}\n{polls.HEADING}\n\nold figures\nmore\n\n{after}")
    polls.write_section([polls.HEADING, "", "new figures"], results)
    assert results.read_text() == f"{OTHERS}\n{polls.HEADING}\n\nnew figures\n\n{after}"


def test_without_a_results_file_it_starts_one(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    polls.write_section([polls.HEADING, "", "figures"], results)
    assert results.read_text() == f"# Benchmark results\n\n{polls.HEADING}\n\nfigures\n"
