"""Speech recognition engines behind one protocol."""

from __future__ import annotations
