"""The operations service: submit, read, cancel and delete, behind every front door."""

from __future__ import annotations
