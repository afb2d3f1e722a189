"""Budget alerts say the spend and the budget in the one money format ($8,500.50 of $10,000.00)."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from spend import budgets
from spend.models import DailySpend
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db


def test_a_budget_alert_names_the_amounts_in_dollars_and_cents(team):
    team.monthly_budget_usd = Decimal("10000")
    team.save()
    d = DeploymentFactory(team=team)
    DailySpend.objects.create(deployment=d, team=team, day=date(2026, 11, 3), gpu_hours=100,
                              cost_usd=Decimal("8500.5"))
    with mock.patch.object(budgets, "notify_once", autospec=True, return_value=True) as notify_once:
        assert budgets.budget_alerts_send(today=date(2026, 11, 20)) == [(team.slug, "budget_80")]
    message = notify_once.call_args.kwargs["message"]
    assert message.startswith("Team nlp has spent $8,500.50 of its $10,000.00 monthly budget (80 % reached)")
