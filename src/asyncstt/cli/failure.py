"""A command that cannot do what it was asked (storage refused a listing, a server cannot be reached, …)."""

from __future__ import annotations


class CommandFailed(Exception):
    """The command stops here; the message says why, and `asyncstt` exits 1 with it."""
