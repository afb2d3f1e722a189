"""Credentials at rest: a webhook's signing secret and its URL (a Slack URL's path is itself a credential).

Fernet from the `cryptography` library (AES-128-CBC with HMAC-SHA256, a timestamped token), keyed from
SECRET_KEY: a copy of the database alone does not reveal them. Gantry needs the plain values to sign and
to post, so they are encrypted, not hashed. After SECRET_KEY changes they cannot be read: they read as
None, and the delivery says to create the webhook again.
"""

import base64
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)


def _fernet():
    digest = hashlib.sha256(f"gantry.notifications:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(plain):
    return _fernet().encrypt(plain.encode()).decode()


def unseal(token):
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        log.error("a sealed notification credential cannot be read (was SECRET_KEY changed?)")
        return None


class SealedTextField(models.TextField):
    """Encrypted in the database, plain in Python. Not for lookups: each encryption differs."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else unseal(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else seal(value)
