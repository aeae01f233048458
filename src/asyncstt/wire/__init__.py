"""Wire formats: the official protobuf messages, parsed from and rendered to REST JSON."""

from __future__ import annotations
