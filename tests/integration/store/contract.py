"""What the OperationStore contract modules (test_contract_*.py) share beside the `store` fixture of conftest.py."""

from __future__ import annotations

from asyncstt.errors import ErrorInfo

#: The outcome a cancelled operation ends with.
CANCELLED = ErrorInfo(code=1, message="cancelled")
