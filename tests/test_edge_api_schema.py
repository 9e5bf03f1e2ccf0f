"""schemathesis against edge_api's own OpenAPI schema: no 5xx, and every answer is the documented one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.python import asgi

from tests.edge_api_support import World, app_for, bearer, committed_world, user_token

# schemathesis's own strategies use `random`; not this suite's concern.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url) as committed:
        yield committed


@pytest.fixture(scope="module")
def api_schema(db_url: str, world: World) -> Iterator[schemathesis.BaseSchema]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_for(db_url))
    yield schema
    asgi.shutdown_lifespans()  # closes the app's pool


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors_and_answers_match_the_schema(
    api_schema: schemathesis.BaseSchema, world: World, mode: GenerationMode
) -> None:
    # The owner's token: random workspace ids are 404, the owner's own one is 200.
    headers = bearer(user_token(world.owner))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=api_schema.as_strategy(mode))
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers)

    call()
