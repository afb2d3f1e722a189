"""An empty Idempotency-Key is refused (issue 20): the caller meant a retry to be safe, so ignoring the
header would let the retry create a second deployment."""

import pytest

from deployments.models import Deployment
from tests.api_fixtures import assert_error_shape
from tests.factories import online_spec

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_idempotency_key_is_a_400_naming_the_header_and_the_fix(api, deployer, dispatched, key):
    response = api(deployer).post("/api/v1/deployments/", online_spec(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    errors = assert_error_shape(response, 400, "blank")
    assert errors[0]["field"] == "Idempotency-Key"
    assert "empty" in errors[0]["message"] and "uuid.uuid4()" in errors[0]["message"]
    assert not Deployment.objects.exists()
    dispatched.push.assert_not_called()


def test_without_the_header_a_create_still_works(api, deployer, dispatched):
    assert api(deployer).post("/api/v1/deployments/", online_spec(), format="json").status_code == 201
