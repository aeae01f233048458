"""The SQLite deployment of the IAM tests: one server holding two tenant folders, A (alice) and B (bob).

Its fixtures (`iam_server`, `tenants`, `alice_operations`) are in `conftest.py`, shared by the test_iam_* modules
that use it."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.acceptance.iam_admin import ApiKey, Operator
from tests.support.serve import ServeProcess

#: How long the IAM test server trusts an API key or role it has read (`iam.cache_seconds`).
CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class Tenants:
    server: ServeProcess
    operator: Operator
    a_folder: str
    b_folder: str
    alice: ApiKey
    bob: ApiKey
    http: httpx.Client


@dataclass(frozen=True)
class AliceOperations:
    v2: str
    v3: str
