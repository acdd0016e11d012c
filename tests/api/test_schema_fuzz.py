"""Every operation of GET /schema, fuzzed by schemathesis (issue 13): data the schema allows and
data it does not, as the admin and as a county's finance officer, answers no 5xx, and every answer
with a documented status matches the schema.

The run is bounded for `make test` (HUINONG_FUZZ_EXAMPLES cases per operation, mode and caller,
4 by default); `make fuzz` runs many more. The figures (cases sent, 5xx found) are printed.
Cases are drawn by Hypothesis up front and sent in-process through the test's client, on the
demo county, with half the path parameters naming objects that exist (so that scope checks and
workflows are reached, not only the 404 of an unknown id).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = int(os.environ.get("HUINONG_FUZZ_EXAMPLES", "4"))
CALLERS = ("admin", "caizheng")
# Operations a fuzzer must not drive: moving the service's clock would date the rest of the run.
SKIPPED = {"set_clock"}


def draw(strategy, count: int) -> list:
    """`count` cases from a strategy (generation only: no shrinking, no example database)."""
    cases: list = []

    @hypothesis.settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("HUINONG_FUZZ_SEED") is None,
    )
    @given(strategy)
    def collect(case) -> None:
        cases.append(case)

    try:
        collect()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to make invalid in an operation without parameters: no negative case
    return cases[:count]


async def known_ids(api) -> dict[str, list[str]]:
    """Ids of the demo county's objects, by the name of the path parameter that names them."""
    conn = await api.connect()
    try:
        queries = {
            "venture_id": "SELECT id::text FROM ventures",
            "household_id": "SELECT id::text FROM households LIMIT 20",
            "member_id": "SELECT id::text FROM venture_members LIMIT 20",
            "code": "SELECT code FROM regions",
        }
        return {name: [r[0] for r in await conn.fetch(sql)] for name, sql in queries.items()}
    finally:
        await conn.close()


def _file(value) -> tuple:
    """A multipart part as httpx takes it: (filename, bytes), whatever the fuzzer put in it."""
    if isinstance(value, tuple):
        filename, content = (value + (None,))[:2] if len(value) > 1 else (None, value[0])
    else:
        filename, content = None, value
    if not isinstance(content, (bytes, str)):
        content = str(content)
    return (filename or "file", content.encode() if isinstance(content, str) else content)


def request_of(case, headers: dict[str, str]) -> dict:
    """The case as httpx.AsyncClient.request keywords."""
    kw = case.as_transport_kwargs(base_url="http://huinong.test", headers=headers)
    out = {k: kw[k] for k in ("method", "url", "headers", "params") if kw.get(k) is not None}
    if "json" in kw:
        out["json"] = kw["json"]
        return out
    files, data = kw.get("files"), kw.get("data")
    if files:
        out["files"] = [(name, _file(value)) for name, value in files]
    if isinstance(data, dict):
        out["data"] = data
    elif data is not None:
        out["content"] = data
    return out


def cases_of(operation) -> list:
    """EXAMPLES cases the schema allows and EXAMPLES it does not (none when nothing can be wrong)."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    return [case for mode in modes for case in draw(operation.as_strategy(generation_mode=mode), EXAMPLES)]


async def send(api, case, headers: dict[str, str]):
    response = await api.client.request(**request_of(case, headers))
    if response.request.headers.get("content-type", "").startswith("multipart/"):
        response.request.read()  # schemathesis reads the request it checks; httpx streamed this one
    return response


def positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


def fields_of(response) -> list[str]:
    try:
        return sorted({e.get("field", "?") for e in response.json().get("errors", [])})
    except ValueError:
        return []


@pytest.mark.slow
async def test_every_operation_answers_no_5xx_and_as_its_schema_says(api):
    raw = (await api.client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [
        r.ok() for r in schema.get_all_operations() if r.ok().definition.raw.get("operationId") not in SKIPPED
    ]
    ids = await known_ids(api)
    rng = random.Random(13)
    figures: Counter[str] = Counter()
    refused: Counter[str] = Counter()  # cases the schema allows that the service refused as bad input
    failures: list[str] = []
    started = time.perf_counter()
    drawn = {operation.label: cases_of(operation) for operation in operations}
    figures["seconds drawing"] = round(time.perf_counter() - started)
    for user in CALLERS:
        headers = await api.login(user)
        for operation in operations:
            for case in drawn[operation.label]:
                for name in case.path_parameters or {}:
                    if ids.get(name) and rng.random() < 0.5:
                        case.path_parameters[name] = rng.choice(ids[name])
                response = await send(api, case, headers)
                figures["cases"] += 1
                figures[f"{response.status_code // 100}xx"] += 1
                if positive(case) and response.status_code in (400, 422):
                    refused[f"{case.method} {operation.path} {response.status_code} {fields_of(response)}"] += 1
                try:
                    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                except (Exception, BaseExceptionGroup) as failure:  # every failure is reported below
                    mode = "positive" if positive(case) else "negative"
                    where = f"{user} {case.method} {case.formatted_path} [{mode}] → {response.status_code}"
                    failures.append(f"{where}: {str(failure)[:600]}")
                    figures["5xx found" if response.status_code >= 500 else "nonconforming"] += 1
    figures["seconds in all"] = round(time.perf_counter() - started)
    print(f"\nschemathesis: {len(operations)} operations, {dict(figures)}")
    print("valid by the schema, refused:", refused.most_common(25))
    assert figures["cases"] > 0
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:40])
