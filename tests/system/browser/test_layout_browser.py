"""Issue 20's layout, as a person sees it in Chromium: panels that use their row, empty states that span their
panel, fleet figures that wrap evenly, an icon on every page, a fixed wizard field that is no longer red."""

import re

import pytest
from playwright.sync_api import expect

from tests.cluster_helpers import deployment_pushed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]
RED = "rgb(180, 35, 24)"  # --bad in static/gantry/gantry.css


def _box(locator):
    return locator.bounding_box()


def test_cards_and_empty_states_use_their_width_and_no_page_misses_its_icon(
    sandbox, sandbox_kubeconfig, browser_login, live_server, deployer, staff, screenshot
):
    chat = deployment_pushed(deployer, name="llama-chat")
    page = browser_login(deployer)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    page.goto(live_server.url + "/")
    card, row = _box(page.locator("#team-nlp")), _box(page.locator(".team-totals"))
    assert card["width"] > 0.95 * row["width"], (card, row)  # the only team's card takes the row

    page.goto(live_server.url + f"/deployments/{chat.pk}/")
    empty = page.locator("#k8s-events li.empty")
    expect(empty).to_have_text("No Kubernetes events.")
    assert _box(empty)["width"] > 0.95 * _box(page.locator("#k8s-events ul"))["width"]
    screenshot("layout-deployment")

    browser_login(staff)
    page.goto(live_server.url + "/fleet/")
    tops = {round(_box(c)["y"]) for c in page.locator(".fleet-stats > .panel").all()}
    assert len(tops) == 1, tops  # five figures, one row on a laptop screen
    page.set_viewport_size({"width": 800, "height": 900})
    widths = {round(_box(c)["width"]) for c in page.locator(".fleet-stats > .panel").all()}
    assert len(widths) == 1, widths  # 3 + 2 of one width, never a stretched lone card
    screenshot("layout-fleet-narrow")
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    assert not missing, missing


def test_a_fixed_field_loses_its_red_border(browser_login, live_server, owner):
    page = browser_login(owner)
    page.goto(live_server.url + "/new/")
    name = page.get_by_label("Deployment name")
    name.fill("Not Valid!")
    page.get_by_label("Team").focus()
    expect(page.locator("#err-name")).to_contain_text("DNS-1123")
    expect(name).to_have_css("border-top-color", RED)
    name.fill("llama-chat")
    page.get_by_label("Team").focus()
    expect(page.locator("#err-name")).to_be_empty()
    expect(name).not_to_have_css("border-top-color", RED)
    expect(page.locator("#advice")).not_to_contain_text(re.compile("fix the highlighted"))
