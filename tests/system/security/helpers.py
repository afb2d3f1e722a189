"""Shared by the security and bad-input tests: URL enumeration and the objects the URLs point at."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

from deployments.services.lifecycle import deployment_create, deployment_update
from tests.factories import online_spec

PERSONAS = ["anonymous", "outsider", "viewer", "deployer", "owner", "staff"]


def url_routes():
    """Every route the resolver knows, as (route string, name), e.g. ('deployments/<int:pk>/', 'deployment-detail')."""

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                yield prefix + str(p.pattern), name

    return list(walk(get_resolver().url_patterns, "", None))


_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def url_fill(route, ids):
    """A concrete path for a route: converters and regex groups replaced by ids[name]."""
    path = route.replace("^", "").replace("$", "")
    path = _GROUP.sub(lambda m: str(ids[m.group(1)]), path)
    path = _CONVERTER.sub(lambda m: str(ids[m.group(1)]), path)
    return "/" + path


def deployment_with_two_revisions(owner, name="llama-chat", **spec_overrides):
    """A team-nlp deployment made through the services: revision 1, then a change (revision 2). Nothing queued."""
    deployment = deployment_create(user=owner, spec=online_spec(name=name, **spec_overrides))
    spec = online_spec(name=name, **spec_overrides)
    spec["scaling"] = {**spec["scaling"], "max_replicas": 3}
    deployment_update(user=owner, deployment=deployment, spec=spec)
    deployment.refresh_from_db()
    return deployment
