"""Schemathesis over the OpenAPI schema, against a live server holding the demo data: no request,
however malformed, may get a 5xx or a response the schema does not describe, whether it comes
anonymously or with a demo user's API token.

The schema is taken from the API object when the tests are collected, so that every operation is
its own test (schemathesis' fixture-based loader renames nodes through an attribute pytest 9
removed). A separate test checks that the live server serves exactly this schema.
"""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from onewindow.accounts.models import User
from onewindow.accounts.services import api_token_create
from onewindow.config.api import api

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

RAW_SCHEMA = api.get_openapi_schema()
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)

CHECKS = [not_a_server_error, response_schema_conformance]
# Each example is an HTTP round trip to the live server, and the demo data behind it is shared by
# all examples of an operation on purpose; neither is a Hypothesis mistake.
FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TOKEN_USER = "admin"


@pytest.fixture
def auth_headers(request, demo_data):
    """No credentials, or a bearer token of the demo platform administrator, who reaches the most."""
    if request.param == "anonymous":
        return {}
    _token, secret = api_token_create(actor=User.objects.get(username=TOKEN_USER), name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


def test_live_server_serves_the_fuzzed_schema(live_server):
    response = requests.get(f"{live_server.url}/api/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.json() == RAW_SCHEMA


@schema.parametrize()
@pytest.mark.parametrize("auth_headers", ["anonymous", "token"], indirect=True)
@FUZZ
def test_api(case, auth_headers, live_server):
    case.call_and_validate(base_url=live_server.url, checks=CHECKS, headers=auth_headers)
