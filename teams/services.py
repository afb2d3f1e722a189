"""Writes for teams: API tokens (the key is returned once; only its SHA-256 is stored)."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import ApiToken, token_hash

PREFIX_LENGTH = 8


def token_create(*, user, name):
    """A new token for `user`: returns (ApiToken, key). The key is never stored nor shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script or pipeline that will use it."})
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError({"name": "Use at most 100 characters."})
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:PREFIX_LENGTH], key_hash=token_hash(key))
    return token, key


def token_revoke(*, user, token_id):
    """Revoke one of the user's own tokens (idempotent). Returns the token, or None if it is not theirs."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        return None
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db(fields=["revoked_at"])
    return token
