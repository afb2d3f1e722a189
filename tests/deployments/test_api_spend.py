from datetime import date
from decimal import Decimal

import pytest

from spend.models import DailySpend
from tests.api_fixtures import assert_error_shape, expected_status

pytestmark = pytest.mark.django_db


def test_team_spend_by_day_and_by_deployment(api, viewer, team, deployment):
    for day, cost in [(date(2026, 3, 1), "12.50"), (date(2026, 3, 2), "7.25")]:
        DailySpend.objects.create(deployment=deployment, team=team, day=day, cost_usd=Decimal(cost),
                                  gpu_hours=Decimal("5"))
    body = api(viewer).get("/api/v1/teams/nlp/spend/?from=2026-03-01&to=2026-03-31").json()
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-31" and body["total_usd"] == 19.75
    assert [(d["day"], d["cost_usd"]) for d in body["days"]] == [("2026-03-01", 12.5), ("2026-03-02", 7.25)]
    assert body["deployments"][0]["name"] == "llama-chat" and body["deployments"][0]["cost_usd"] == 19.75
    only_first = api(viewer).get("/api/v1/teams/nlp/spend/?from=2026-03-01&to=2026-03-01").json()
    assert only_first["total_usd"] == 12.5


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-03-05&to=2026-03-01", "from"),
    ("from=2020-01-01&to=2026-01-01", "from"),
])
def test_bad_dates_name_the_field(api, viewer, query, field):
    errors = assert_error_shape(api(viewer).get(f"/api/v1/teams/nlp/spend/?{query}"), 400)
    assert errors[0]["field"] == field


@pytest.mark.parametrize("persona", ["owner", "deployer", "viewer", "outsider", "staff", "anonymous"])
def test_spend_access(as_persona, persona):
    response = as_persona(persona).get("/api/v1/teams/nlp/spend/")
    assert response.status_code == expected_status(persona, 200)
    if response.status_code == 200:
        assert response.json()["team"] == "nlp"


def test_unknown_team_is_404(api, staff):
    assert_error_shape(api(staff).get("/api/v1/teams/nope/spend/"), 404, "not_found")
