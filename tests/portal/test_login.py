"""Login throttling (issue 13 item 9): atomic under parallel guesses, by normalised username, by real client."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

WRONG = {"username": "vic-viewer", "password": "wrong"}


def _counters_clear():
    redis = cache._cache.get_client(None, write=True)  # Django's RedisCache keeps the client here
    for key in list(redis.scan_iter("*login-fail:*")):
        redis.delete(key)


@pytest.fixture(autouse=True)
def clean_counters(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    _counters_clear()
    yield
    _counters_clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_thirty_parallel_wrong_passwords_try_at_most_the_limit(viewer):
    def attempt(_i):
        try:
            return Client().post("/login/", WRONG).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(30)))
    assert statuses.count(200) <= 5, statuses  # a 200 is a password actually tried (and refused)
    assert statuses.count(429) >= 25


def test_a_full_width_username_is_the_same_account_for_the_lockout(client, viewer):
    for _ in range(5):
        assert client.post("/login/", WRONG).status_code == 200
    full_width = {"username": "ｖｉｃ-ＶＩＥＷＥＲ", "password": "pw-for-tests-1"}
    assert client.post("/login/", full_width).status_code == 429


def test_a_success_does_not_count_against_the_address(client, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):
        assert client.post("/login/", {"username": "vic-viewer", "password": "pw-for-tests-1"}).status_code == 302
        client.logout()


def test_behind_a_trusted_proxy_one_client_cannot_lock_out_another(settings, viewer, deployer):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for name in ["a", "b", "c", "d", "e", "f"]:
        attacker.post("/login/", {"username": f"nobody-{name}", "password": "x"})
    assert attacker.post("/login/", {"username": "nobody-g", "password": "x"}).status_code == 429
    colleague = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = colleague.post("/login/", {"username": "dan-deployer", "password": "pw-for-tests-1"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_failed_attempt_keeps_the_username_and_focuses_the_password(viewer):
    page = Client().post("/login/", WRONG).content.decode()
    username = page.split('name="username"')[1].split(">")[0]
    password = page.split('name="password"')[1].split(">")[0]
    assert 'value="vic-viewer"' in username and "autofocus" not in username and "autofocus" in password
    assert 'value="wrong"' not in page  # the password is never sent back
