"""The over-budget refusal says its amounts in the one money format ($1,234.50), as the page and the audit log show
them (deployments/services/quota.py)."""

from decimal import Decimal

import pytest

from deployments.services.quota import quota_check
from tests.factories import online_spec

pytestmark = pytest.mark.django_db


def test_an_over_budget_spec_names_its_amounts_in_dollars_and_cents(team):
    team.monthly_budget_usd, team.gpu_quota = Decimal("1000"), 64
    team.save()
    issue = quota_check(team=team, spec=online_spec(), cost={"per_month_max": 1234.5})
    assert issue.code == "over_quota"
    assert issue.message.startswith("Up to $1,234.50 a month is over what is left of team nlp's budget: "
                                    "$1,000.00 of $1,000.00 after $0.00 spent this month and up to $0.00 a month")
