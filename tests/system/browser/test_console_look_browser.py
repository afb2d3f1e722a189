"""The staff console in Chromium looks like the rest of Gantry: the same header, navigation and icon as the
fleet page, readable captions in Gantry's colours, and the portal one click away."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def _look(page, selector):
    return page.locator(selector).first.evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.height, s.color, s.textDecorationLine]; }")


def test_the_console_wears_the_portals_header_and_colours(browser_login, live_server, staff, screenshot):
    page = browser_login(staff)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(live_server.url + "/fleet/")
    portal_bar = _look(page, ".topbar")

    page.goto(live_server.url + "/admin/")
    assert _look(page, ".topbar") == portal_bar  # the same dark bar, the same height
    assert portal_bar[:2] == ["rgb(21, 27, 44)", "56px"]
    admin_link = page.locator(".topbar nav a", has_text="Admin")
    expect(admin_link).to_have_attribute("aria-current", "page")
    assert _look(page, ".topbar nav a")[3] == "none"  # not underlined like the admin's own links
    caption_bg, _, caption_ink, _ = _look(page, ".module caption")
    section_ink = _look(page, ".module caption a.section")[2]
    assert section_ink not in (caption_bg, "rgb(255, 255, 255)"), (section_ink, caption_bg)  # readable
    assert _look(page, "a[href$='pending_approval']")[2] == "rgb(52, 81, 209)"  # Gantry's accent for links
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    screenshot("console-index")

    page.goto(live_server.url + "/admin/catalog/gpuclass/")
    expect(page.locator("#result_list")).to_contain_text("$")
    screenshot("console-gpu-classes")
    page.locator(".topbar nav a", has_text="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert not missing, missing
