"""The API docs in Chromium: a Gantry page (header, navigation, a way back) whose summaries read as plain text,
and whose "Try it out" starts from an example that the API accepts, sent with the browser's own session."""

import re

import pytest
from playwright.sync_api import expect

from teams.models import Role
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]
CREATE = "#operations-deployments-v1_deployments_create"


def test_the_docs_are_a_gantry_page_and_try_it_out_creates_the_example(browser_login, live_server, owner,
                                                                        screenshot, dispatched):
    MembershipFactory(team=TeamFactory(slug="demo"), user=owner, role=Role.OWNER)  # the examples' team
    page = browser_login(owner)
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".topbar nav")).to_contain_text("API tokens")
    summaries = page.locator(".opblock-summary-description")
    expect(summaries.first).to_be_visible()
    texts = summaries.all_inner_texts()
    assert len(texts) >= 15 and not [t for t in texts if "`" in t], texts
    assert "Tear down: 202, status goes to deleting, then deleted" in texts
    screenshot("api-docs")

    page.locator(f"{CREATE} .opblock-summary").click()
    body = page.locator(f"{CREATE} textarea.body-param__text")
    expect(body).to_have_value(re.compile(r'"name": "llama-chat"'))  # the example, not "string"
    page.locator(f"{CREATE} button.execute").click()
    expect(page.locator(f"{CREATE} .live-responses-table tbody .response-col_status")).to_have_text("201")
    screenshot("api-docs-try-it-out")

    page.get_by_role("link", name="← Back to Gantry").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("link", name="llama-chat")).to_be_visible()  # the deployment the example created
