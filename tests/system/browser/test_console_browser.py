"""A platform engineer in a real browser: find the pending request, reject it with a reason, check the fleet page."""

import pytest

from specs.vocabulary import Status
from tests.factories import DeploymentFactory, TeamFactory, UserFactory


@pytest.mark.timeout(60)
def test_staff_reject_a_pending_request_in_the_browser(transactional_db, live_server, browser_login, screenshot):
    staff = UserFactory(username="sam-staff", is_staff=True, is_superuser=True)
    team = TeamFactory(slug="nlp")
    pending = DeploymentFactory(team=team, name="huge-model", status=Status.PENDING_APPROVAL,
                                approval_reason="Up to $90,000.00 a month is over team nlp's budget.")
    page = browser_login(staff)

    page.goto(f"{live_server.url}/fleet/")
    assert page.locator("#pending-count").inner_text() == "1"
    screenshot("fleet-overview")
    page.get_by_role("link", name="Review 1 pending approval").click()
    page.locator("#pending-approvals").wait_for()
    page.locator(f"input[name=_selected_action][value='{pending.pk}']").check()
    page.locator("select[name=action]").first.select_option("reject")
    page.get_by_role("button", name="Run").first.click()
    page.get_by_label("Reason").fill("Ask again next month; the A100 pool is full.")
    screenshot("console-reject-form")
    page.get_by_role("button", name="Reject").click()
    assert "Rejected: nlp/huge-model" in page.locator(".messagelist").inner_text()
    screenshot("console-after-reject")

    pending.refresh_from_db()
    assert pending.status == Status.REJECTED
    assert pending.decision_reason == "Ask again next month; the A100 pool is full."
    page.goto(f"{live_server.url}/admin/deployments/deployment/{pending.pk}/change/")
    assert "Ask again next month" in page.locator("fieldset", has_text="Approval").inner_text()
    screenshot("console-deployment-page")
