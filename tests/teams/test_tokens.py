import pytest

from teams.models import ApiToken, token_hash

pytestmark = pytest.mark.django_db


def _create(client, name="ci-deploy"):
    response = client.post("/tokens/", {"name": name})
    assert response.status_code == 201
    page = response.content.decode()
    key = page.split('<pre id="new-key">')[1].split("</pre>")[0]
    return key, page


def test_new_key_is_shown_once_and_only_its_hash_is_stored(login, deployer):
    client = login(deployer)
    key, page = _create(client)
    assert key.startswith("gnt_") and "shown only once" in page
    token = ApiToken.objects.get(user=deployer)
    assert token.name == "ci-deploy" and token.key_hash == token_hash(key)
    assert key not in {token.key_hash, token.prefix, token.name}
    again = client.get("/tokens/").content.decode()
    assert key not in again and "ci-deploy" in again and token.prefix in again


def test_key_works_until_revoked_then_gets_401(login, api, deployer, client):
    browser = login(deployer)
    key, _ = _create(browser)
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/v1/catalog/gpus/", **headers).status_code == 200
    token = ApiToken.objects.get(user=deployer)
    assert token.last_used_at is not None

    response = browser.post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert "Revoked" in response.content.decode() and "revoked" in response.content.decode()

    response = client.get("/api/v1/catalog/gpus/", **headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_cannot_revoke_someone_elses_token(login, deployer, outsider):
    key, _ = _create(login(deployer))
    token = ApiToken.objects.get(user=deployer)
    assert login(outsider).post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_needs_a_name(login, viewer):
    response = login(viewer).post("/tokens/", {"name": "  "})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_page_needs_login(client):
    assert client.get("/tokens/").status_code == 302


def test_a_token_lists_only_its_owners_tokens(login, deployer, viewer):
    _create(login(deployer), name="deployer-script")
    page = login(viewer).get("/tokens/").content.decode()
    assert "deployer-script" not in page and "No tokens yet" in page


def test_last_used_is_kept_to_the_minute_without_a_write_per_call(login, deployer, client):
    from datetime import timedelta

    from django.utils import timezone

    key, _ = _create(login(deployer))
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    client.get("/api/v1/catalog/gpus/", **headers)
    first = ApiToken.objects.get(user=deployer).last_used_at
    client.get("/api/v1/catalog/gpus/", **headers)
    assert ApiToken.objects.get(user=deployer).last_used_at == first, "within the minute: not rewritten"

    ApiToken.objects.filter(user=deployer).update(last_used_at=timezone.now() - timedelta(minutes=5))
    client.get("/api/v1/catalog/gpus/", **headers)
    assert timezone.now() - ApiToken.objects.get(user=deployer).last_used_at < timedelta(seconds=30)
