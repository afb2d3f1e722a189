"""What the spec's strings look like: names, images, URIs, durations, secret references.

The Kubernetes and Knative rules these follow are ASCII-only, so every class here is too.
"""

import re

# Money is written one way everywhere (pages, messages, the admin, the audit log): formats/money.py, below every
# app, since catalog writes prices into audit events too. The spec's messages take it from here.
from formats.money import money, money_rate  # noqa: F401 (re-exported)

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SECRET_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
SECRET_REF_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)/([-._a-zA-Z0-9]{1,253})$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# repository[:tag][@digest]; a tag or a digest is required so that a revision is reproducible.
IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._\-/:]*[a-z0-9](:[\w][\w.\-]{0,127})?(@sha256:[0-9a-f]{64})?$", re.ASCII)
# The last path part of an image ends in ":<tag>" (ASCII letters, digits, "_", "." and "-", as Docker allows).
TAG_RE = re.compile(r":[\w][\w.\-]*$", re.ASCII)
# Knative durations ("30m", "1h", "90s"): ASCII digits only, so a full-width "３０m" is refused.
DURATION_RE = re.compile(r"^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")
HEALTH_PATH_RE = re.compile(r"/[!-~]{0,199}")  # printable ASCII, no spaces
# An S3 endpoint: scheme, host and optional port, no path (clients add the bucket themselves).
ENDPOINT_RE = re.compile(r"^https?://[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(:[0-9]{1,5})?/?$")
# Argo's CronWorkflow schedule pattern (argoproj.io_cronworkflows.yaml, spec.schedules items, Argo v3.6+).
CRON_RE = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every\s+([0-9]+(ns|us|µs|ms|s|m|h))+"
                     r"|([A-Za-z0-9*,/?-]+\s+){4}[A-Za-z0-9*,/?-]+)$")
URI_RE = re.compile(r"^(s3://[a-z0-9][a-z0-9.\-]{1,62}/\S*|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/\S*)$")


def split_uri(uri):
    """'pvc://claim/path/x' -> ('pvc', 'claim', 'path/x'); 's3://bucket/key' -> ('s3', 'bucket', 'key')."""
    scheme, rest = uri.split("://", 1)
    head, _, tail = rest.partition("/")
    return scheme, head, tail


def duration_seconds(text):
    """'30m', '1h', '90s', '1h30m' -> seconds; None when not a duration."""
    match = DURATION_RE.fullmatch(text or "") if isinstance(text, str) else None
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds
