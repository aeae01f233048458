"""Schemathesis against the live OpenAPI document of a running `asyncstt serve` (fake engine).

Every operation is fuzzed with requests its schema allows and with requests it forbids, then the stateful links
are walked (submit, then get, cancel, delete and the results of the operation it made). Every answer is checked:
no 5xx, a status the document lists, its content type and schema, forbidden data refused, a deleted operation
gone, and credentials never ignored. Failures are collected rather than shrunk, so the run stays bounded; the
test reports them all at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import Case as AnyCase
from schemathesis import GenerationMode, Response
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.generation.stateful import run_state_machine_as_test

from asyncstt.http.openapi import RESULT_LINE
from tests.support.serve import ServeProcess

#: About two minutes on a quiet 2-core machine; the limit leaves room for a busy one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

Case = AnyCase[Any]

#: Examples per operation and generation mode, and stateful scenarios: about 2,500 requests in all.
EXAMPLES = 100
SCENARIOS = 60
STEPS = 6
#: The checks of schemathesis that say whether the document is true.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "use_after_free",
    "ignored_auth",
)


def result_lines_conform(ctx: Any, response: Response, case: Case) -> bool | None:
    """getRecognition answers one JSON object per line, each `{"result": StreamingResponse}`."""
    if case.operation.definition.raw.get("operationId") != "getRecognition":
        return None
    if response.status_code != 200:
        return None
    line_schema = jsonschema_rs.Draft202012Validator(RESULT_LINE)
    for line in response.content.splitlines():
        line_schema.validate(json.loads(line))
    return True


@dataclass
class Tally:
    """Requests sent and what failed, by operation and check."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def call(self, case: Case, headers: dict[str, str]) -> Response:
        response = case.call(headers=headers, timeout=30)
        self.requests += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def validate(
        self, case: Case, response: Response, checks: list[CheckFunction], headers: dict[str, str]
    ) -> None:
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except AssertionError as failure:
            # One report per operation and kind of failure; the first one found is kept.
            first_line = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
            key = f"{case.operation.label}: {type(failure).__name__}: {first_line[:120]}"
            self.failures.setdefault(key, f"{case.as_curl_command()}\n{str(failure)[:1500]}")


@pytest.fixture(scope="module")
def fuzzed_server(serve_factory: Callable[..., ServeProcess]) -> ServeProcess:
    return serve_factory(
        extra_env={
            "ASYNCSTT_ENGINE__KIND": "fake",
            "ASYNCSTT_EXECUTION__LOCAL_WORKERS": "1",
            "ASYNCSTT_IAM__QUOTAS__V3_POLLS_PER_SECOND": "100000",
        }
    )


@pytest.fixture(scope="module")
def checks() -> list[CheckFunction]:
    chosen = [getattr(schemathesis.checks, name) for name in CHECK_NAMES]
    return [*chosen, result_lines_conform]


def test_the_live_document_holds_for_every_generated_request(
    fuzzed_server: ServeProcess, checks: list[CheckFunction]
) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    headers = {"Authorization": f"Api-Key {fuzzed_server.api_key}"}
    tally = Tally()
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "every operation of the document loads"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: Case) -> None:
                tally.validate(case, tally.call(case, headers), checks, headers)

            try:
                fuzz()
            except hypothesis.errors.Unsatisfiable:
                # An operation without parameters or body (/health) has nothing to make invalid.
                assert mode is GenerationMode.NEGATIVE, operation.label

    single = tally.requests
    machine = schema.as_state_machine()

    class Scenarios(machine):  # type: ignore[misc, valid-type]
        def call(self, case: Case, **kwargs: Any) -> Response:
            return tally.call(case, headers)

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            tally.validate(case, response, checks, headers)

    run_state_machine_as_test(
        Scenarios,
        settings=hypothesis.settings(settings, max_examples=SCENARIOS, stateful_step_count=STEPS),
    )

    print(
        f"{tally.requests} requests ({single} one at a time, the rest in linked scenarios) over "
        f"{len(operations)} operations: {tally.statuses}"
    )
    assert not tally.failures, "\n\n".join(
        f"{key}\n{detail}" for key, detail in sorted(tally.failures.items())
    )
    assert tally.requests >= 2000
    assert all(status < 500 for status in tally.statuses)
