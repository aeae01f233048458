"""What a running process tells its operators: Prometheus metrics and log lines."""

from __future__ import annotations
