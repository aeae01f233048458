"""Where audio comes from: object storage, plain http(s) links, local files and inline bytes."""

from __future__ import annotations
