"""Placeholder until the s3server fixtures land."""

from __future__ import annotations
