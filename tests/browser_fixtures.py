"""Playwright fixtures for browser tests: Debian's Chromium, headless, never downloaded.

- `browser` (session): one Chromium for the whole run.
- `page`: a fresh context and page per test; a screenshot of the last state is saved on teardown.
- `screenshot(name)`: save the current page as test-artifacts/screenshots/<name>.png.
- `browser_login(user)`: log the page in as `user` (a session cookie, no login form) and return it.

Use them with `live_server` and `transactional_db`, since the server runs in another thread.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM refuses to run next to
    # one unless told that this (test-only) use is safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's loop runs in this thread, the ORM's connections opened meanwhile are kept apart
        # from the rest of the session's (asgiref's Local); left open, pytest-django could not drop the test
        # database at the end ("being accessed by other users").
        from django.db import connections

        connections.close_all()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}-last.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def screenshot(page):
    """screenshot(name) -> path of a full-page PNG of the current state."""

    def _shot(name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def browser_login(page, live_server, settings):
    """browser_login(user) -> the page, logged in as `user` (via a real session cookie)."""
    from django.test import Client

    def _login(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return _login
