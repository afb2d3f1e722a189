"""The state module (deployments/state.py): who may move a deployment where, and the one scale-to-zero state."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from clusters import Observation, status_read
from deployments import state
from deployments.services import lifecycle
from specs.vocabulary import Status
from tests.factories import DeploymentFactory, online_spec

S = Status


@pytest.mark.parametrize("from_status, to_status, team, staff, system", [
    (S.RUNNING, S.QUEUED, True, True, False),          # a new revision or a push again
    (S.APPLYING, S.RUNNING, False, False, True),        # only what the cluster reports
    (S.QUEUED, S.RUNNING, False, False, False),         # a push applies first
    (S.PENDING_APPROVAL, S.REJECTED, False, True, False),
    (S.PENDING_APPROVAL, S.APPLYING, False, True, False),  # a rejected change keeps the applied revision
    (S.RUNNING, S.DELETING, True, True, False),
    (S.DELETING, S.DELETED, False, False, True),
    (S.DELETED, S.QUEUED, False, False, False),        # a deleted deployment never comes back
    (S.SUCCEEDED, S.RUNNING, False, False, False),
])
def test_the_transition_table_says_who_may_move_it(from_status, to_status, team, staff, system):
    assert state.transition_allowed(from_status, to_status, by=state.TEAM) is team
    assert state.transition_allowed(from_status, to_status, by=state.STAFF) is staff
    assert state.transition_allowed(from_status, to_status, by=state.SYSTEM) is system


def test_a_move_the_table_forbids_is_refused_and_nothing_changes(team, deployer):
    deployment = DeploymentFactory(team=team, status=S.DELETED)
    with pytest.raises(ValueError, match="deleted to queued"):
        lifecycle.deployment_transition(deployment=deployment, expected=S.DELETED, new=S.QUEUED, actor=deployer)
    deployment.refresh_from_db()
    assert deployment.status == S.DELETED and not deployment.events.exists()


def test_scale_to_zero_state_counts_the_stable_window_then_the_retention(team, settings):
    settings.KNATIVE_STABLE_WINDOW_SECONDS = 60
    now = timezone.now()
    warm = DeploymentFactory(team=team, status=S.RUNNING, total_pods=1, idle_since=now - timedelta(minutes=10))
    assert state.scale_to_zero_state(warm, retention_seconds=1800, min_replicas=0, now=now) == (
        state.WARM, timedelta(minutes=21))
    zero = DeploymentFactory(team=team, name="zero", status=S.SCALED_TO_ZERO)
    assert state.scale_to_zero_state(zero, retention_seconds=1800, min_replicas=0, now=now) == (state.ZERO, None)
    busy = DeploymentFactory(team=team, name="busy", status=S.RUNNING, total_pods=2)
    assert state.scale_to_zero_state(busy, retention_seconds=1800, min_replicas=0, now=now)[0] == state.ACTIVE
    assert state.scale_to_zero_state(busy, retention_seconds=1800, min_replicas=1, now=now)[0] == state.ALWAYS_ON


def _seconds(text):
    minutes, seconds = re.fullmatch(r"(\d+)m (\d+)s", text).groups()
    return int(minutes) * 60 + int(seconds)


def test_dashboard_and_deployment_page_show_the_same_warm_time_left(team, owner, login, settings):
    # Once computed in two places that disagreed on one page by the stable window; now both ask
    # deployments/state.py. A long stable window makes any disagreement plain.
    settings.KNATIVE_STABLE_WINDOW_SECONDS = 600
    warm = DeploymentFactory(team=team, name="warm", status=S.RUNNING, total_pods=1, ready_pods=1, gpus_in_use=1,
                             idle_since=timezone.now() - timedelta(minutes=10),
                             revision=online_spec(name="warm", scaling={"min_replicas": 0, "max_replicas": 2,
                                                                        "scale_to_zero_retention": "30m"}))
    client = login(owner)
    dashboard = client.get("/").content.decode()
    row = dashboard[dashboard.index(f'id="dep-{warm.pk}"'):]
    shown = [re.search(r"(\d+m \d+s) left", row).group(1)]
    page = client.get(f"/deployments/{warm.pk}/").content.decode()
    on_page = re.findall(r"(\d+m \d+s) left", page)
    assert len(on_page) == 2, "the live stat and the ledger both say how long the pod stays warm"
    # 10 min idle of a 10 min stable window + 30 min retention: 30 minutes left, everywhere.
    assert all(1795 <= _seconds(text) <= 1800 for text in shown + on_page), shown + on_page


def _knative_observation(scale, *, pods):
    obj = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "warm", "generation": 1},
           "spec": {"template": {"metadata": {"annotations": {"autoscaling.knative.dev/min-scale": "0"}}}},
           "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}}
    return Observation(ready_pods=pods, total_pods=pods, gpus_in_use=pods, obj=obj, status=status_read(obj),
                       scale=scale)


def test_the_warm_countdown_comes_from_the_revisions_active_condition(team, settings):
    # Knative marks a revision inactive (Active=False, NoTraffic) after a stable window without requests
    # and keeps the pod for the retention from then: 10 minutes inactive of 30 minutes retention leaves 20.
    settings.KNATIVE_STABLE_WINDOW_SECONDS = 60
    now = timezone.now()
    inactive_at = (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    d = DeploymentFactory(team=team, status=S.RUNNING, applied_revision=1)
    scale = {"revisions": 1, "active": False, "reason": "NoTraffic", "since": inactive_at, "actual": 1, "desired": 0}
    assert state.status_from_observation(d, _knative_observation(scale, pods=1), now, current_revision=1) == (
        S.RUNNING, "")
    stz, left = state.scale_to_zero_state(d, retention_seconds=1800, min_replicas=0, now=now)
    assert stz == state.WARM and timedelta(minutes=19, seconds=59) <= left <= timedelta(minutes=20)

    busy = dict(scale, active=True, since=None, desired=1)
    state.status_from_observation(d, _knative_observation(busy, pods=1), now, current_revision=1)
    assert state.scale_to_zero_state(d, retention_seconds=1800, min_replicas=0, now=now) == (state.ACTIVE, None)
    state.status_from_observation(d, _knative_observation(None, pods=1), now, current_revision=1)
    assert d.idle_since is None  # no revision known: never a countdown made up


def test_knative_saying_no_replicas_is_scaled_to_zero_even_while_a_pod_terminates(team):
    now = timezone.now()
    d = DeploymentFactory(team=team, status=S.RUNNING, applied_revision=1)
    gone = {"revisions": 1, "active": False, "reason": "NoTraffic", "since": "2026-01-01T00:00:00Z",
            "actual": 0, "desired": 0}
    assert state.status_from_observation(d, _knative_observation(gone, pods=1), now, current_revision=1) == (
        S.SCALED_TO_ZERO, "")
    assert d.idle_since is None
    waking = dict(gone, active=None, reason="Queued", desired=1)
    assert state.status_from_observation(d, _knative_observation(waking, pods=1), now, current_revision=1)[0] == (
        S.RUNNING)
