"""The audit log: who changed what and when, filterable, with spec diffs; nobody can edit it."""

from django.urls import reverse

from audit.models import Event
from audit.services import spec_diff
from tests.factories import DeploymentFactory, online_spec

EVENTS = reverse("admin:audit_event_changelist")


def _changed_deployment(team, owner):
    deployment = DeploymentFactory(team=team, name="chat")
    bigger = online_spec(team="nlp", name="chat", scaling={"min_replicas": 0, "max_replicas": 6,
                                                           "latency_tolerance": "moderate"})
    deployment.revisions.create(number=2, spec=bigger, manifests=[], created_by=owner)
    return Event.objects.create(deployment=deployment, team=team, kind=Event.Kind.CHANGED, actor=owner,
                                from_status="running", to_status="queued", message="chat scaled up",
                                data={"revision": 2})


def test_spec_diff_names_each_changed_field():
    old = {"scaling": {"max_replicas": 2, "min_replicas": 0}, "runtime": {"image": "a:1"}}
    new = {"scaling": {"max_replicas": 6, "min_replicas": 0}, "runtime": {"image": "a:1", "port": 9000}}
    assert spec_diff(old, new) == [
        {"field": "runtime.port", "old": None, "new": 9000},
        {"field": "scaling.max_replicas", "old": 2, "new": 6},
    ]


def test_change_event_shows_who_and_the_spec_diff(login, staff, team, owner):
    event = _changed_deployment(team, owner)
    page = login(staff).get(reverse("admin:audit_event_change", args=[event.pk]))
    assert page.status_code == 200
    assert "olivia-owner" in page.text and "scaling.max_replicas" in page.text
    assert "Before" in page.text and ">2<" in page.text and ">6<" in page.text


def test_audit_log_filters_by_kind_team_actor_and_date(login, staff, team, other_team, owner, outsider):
    _changed_deployment(team, owner)
    old = Event.objects.create(team=other_team, kind=Event.Kind.TEAM, actor=outsider, message="vision budget raised")
    Event.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    client = login(staff)
    everything = client.get(EVENTS).text
    assert "chat scaled up" in everything and "vision budget raised" in everything
    for query, shown, hidden in [
        ("kind__exact=team", "vision budget raised", "chat scaled up"),
        (f"team__id__exact={team.pk}", "chat scaled up", "vision budget raised"),
        (f"actor__id__exact={outsider.pk}", "vision budget raised", "chat scaled up"),
        ("created_at__year=2020", "vision budget raised", "chat scaled up"),
    ]:
        text = client.get(f"{EVENTS}?{query}").text
        assert shown in text and hidden not in text, query


def test_audit_log_is_read_only(login, staff, team, owner):
    event = _changed_deployment(team, owner)
    client = login(staff)
    assert client.get(reverse("admin:audit_event_add")).status_code == 403
    assert client.post(reverse("admin:audit_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    client.post(reverse("admin:audit_event_change", args=[event.pk]), {"message": "nothing happened"})
    event.refresh_from_db()
    assert event.message == "chat scaled up"
    changelist = client.get(EVENTS).text
    assert 'value="delete_selected"' not in changelist
    assert Event.objects.filter(pk=event.pk).exists()
