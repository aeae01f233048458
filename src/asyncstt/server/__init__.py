"""Process assembly: the components of one server wired together, and the process that runs them."""

from __future__ import annotations
