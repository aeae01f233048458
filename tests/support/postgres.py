"""Placeholder until the postgres fixtures land."""

from __future__ import annotations
