"""Audio files: what format they really are (`format`), what they hold (`probe`), slices of them (`decode`)."""

from __future__ import annotations
