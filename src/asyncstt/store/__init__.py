"""Durable state: operations, their audio when it came inline, and API keys."""

from __future__ import annotations
