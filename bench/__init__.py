"""Benchmarks of asyncstt on this machine; each writes its own sections of bench/RESULTS.md."""
