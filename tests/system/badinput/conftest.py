import pytest
from rest_framework.test import APIClient

from teams.services import token_create


@pytest.fixture
def api_client(team, owner):
    """A token client that returns 500s as responses instead of raising, so tests can assert on them."""
    _, key = token_create(user=owner, name="hostile-input")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.raise_request_exception = False
    return client
