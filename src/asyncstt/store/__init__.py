"""Durable state: operations, their inline audio, slice checkpoints and idempotency keys; the tables (identity
included) and migrations of every SQL store."""

from __future__ import annotations
