"""The deployment page: status, live partial, charts, ledger, history, manifests and the actions."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import Event
from deployments.models import Revision
from specs.vocabulary import Status, Target, Workload
from spend.models import DailySpend, StatusSample
from tests.factories import DeploymentFactory, batch_spec, online_spec
from tests.spec_helpers import complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def dep(team, owner):
    d = DeploymentFactory(team=team, name="llama-chat", created_by=owner, url="https://llama-chat.nlp.example",
                          ready_pods=1, total_pods=2, gpus_in_use=2, gpus_per_replica=1,
                          revision=complete(online_spec(name="llama-chat"))[0])
    Event.objects.create(deployment=d, team=team, kind=Event.Kind.CREATED, actor=owner, message="Deployment created")
    return d


def htmx(client, url):
    return client.get(url, headers={"HX-Request": "true"})


def test_owner_sees_status_url_gpu_region_revision_events_and_manifests(dep, owner, login):
    body = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    for text in ("llama-chat", "Running", "https://llama-chat.nlp.example", "A100_NVLINK_80GB", "LAS1",
                 "r1", "Deployment created", "olivia-owner", "apiVersion: serving.knative.dev/v1",
                 f"/deployments/{dep.pk}/edit/", "Scale-to-zero ledger", 'id="ready-pods">1<'):
        assert text in body, text
    assert 'hx-trigger="every 3s"' in body


def test_outsider_gets_404_everywhere(dep, outsider, login):
    client = login(outsider)
    for url in (f"/deployments/{dep.pk}/", f"/deployments/{dep.pk}/?part=live", f"/deployments/{dep.pk}/?part=chart",
                f"/deployments/{dep.pk}/?part=k8s", f"/deployments/{dep.pk}/manifests.yaml"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/deployments/{dep.pk}/teardown/", {"confirm": "llama-chat"}).status_code == 404
    assert client.post(f"/deployments/{dep.pk}/rollback/", {"revision": 1}).status_code == 404
    dep.refresh_from_db()
    assert dep.status == Status.RUNNING


def test_live_partial_follows_the_status_and_stops_polling_when_final(dep, owner, login):
    client = login(owner)
    dep.status = Status.QUEUED
    dep.save()
    response = htmx(client, f"/deployments/{dep.pk}/")
    assert response.status_code == 200 and 'data-status="queued"' in response.content.decode()
    assert "<html" not in response.content.decode()
    dep.status = Status.APPLYING
    dep.save()
    assert 'data-status="applying"' in htmx(client, f"/deployments/{dep.pk}/").content.decode()
    dep.status = Status.FAILED
    dep.status_message = "ImagePullBackOff: the image does not exist"
    dep.save()
    response = htmx(client, f"/deployments/{dep.pk}/")
    assert response.status_code == 286 and "ImagePullBackOff" in response.content.decode()


def test_pending_and_rejected_show_the_reasons(dep, owner, login):
    dep.status, dep.approval_reason = Status.PENDING_APPROVAL, "Needs 12 GPUs; the team quota is 8"
    dep.save()
    assert "Needs 12 GPUs" in login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    dep.status, dep.decision_reason = Status.REJECTED, "Use an A40 instead"
    dep.save()
    assert "Rejected" in login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    assert "Use an A40 instead" in login(owner).get(f"/deployments/{dep.pk}/").content.decode()


def test_chart_data_has_pods_and_spend_for_each_range(dep, owner, login):
    now = timezone.now()
    StatusSample.objects.bulk_create(
        StatusSample(deployment=dep, at=now - timedelta(minutes=m), status=Status.RUNNING, ready_pods=2,
                     total_pods=2, gpus_in_use=2) for m in range(1, 30)
    )
    DailySpend.objects.create(deployment=dep, team=dep.team, day=now.date() - timedelta(days=3),
                              gpu_hours=Decimal(24), cost_usd=Decimal("64.80"))
    type(dep).objects.filter(pk=dep.pk).update(created_at=now - timedelta(days=40))  # the ranges are full
    client = login(owner)

    def chart(range_key):
        body = htmx(client, f"/deployments/{dep.pk}/?part=chart&range={range_key}").content.decode()
        raw = body[body.index('<script id="chart-data" type="application/json">') + 48:]
        return json.loads(raw[: raw.index("</script>")])

    hour = chart("1h")
    assert len(hour["labels"]) == 60 and max(hour["total"]) == 2 and hour["total"][0] == 0
    assert sum(hour["cost"]) == pytest.approx(2 * 2.70 * 29 / 60, rel=0.05)
    month = chart("30d")
    assert len(month["labels"]) == 30 and 64.8 in month["cost"] and 1.0 in month["total"]


def test_teardown_needs_the_typed_name(dep, owner, viewer, login):
    client = login(owner)
    client.post(f"/deployments/{dep.pk}/teardown/", {"confirm": "wrong"})
    dep.refresh_from_db()
    assert dep.status == Status.RUNNING
    response = login(viewer).post(f"/deployments/{dep.pk}/teardown/", {"confirm": "llama-chat"}, follow=True)
    dep.refresh_from_db()
    assert dep.status == Status.RUNNING and "cannot delete" in response.content.decode()
    response = client.post(f"/deployments/{dep.pk}/teardown/", {"confirm": "llama-chat"}, follow=True)
    dep.refresh_from_db()
    assert dep.status == Status.DELETING and "Tear down started" in response.content.decode()


def test_rollback_pushes_the_old_spec_as_a_new_revision(dep, owner, login):
    old = dep.current_revision.spec
    spec2 = json.loads(json.dumps(old))
    spec2["runtime"]["image"] = "ghcr.io/acme/llm-server:2.0"
    rev2 = Revision.objects.create(deployment=dep, number=2, spec=spec2)
    dep.current_revision = rev2
    dep.save()
    response = login(owner).post(f"/deployments/{dep.pk}/rollback/", {"revision": 1}, follow=True)
    assert "Rolling back to revision 1" in response.content.decode(), response.content.decode()[:3000]
    dep.refresh_from_db()
    assert dep.current_revision.number == 3
    assert dep.current_revision.spec["runtime"]["image"] == old["runtime"]["image"]


def test_manifests_download(dep, owner, login):
    response = login(owner).get(f"/deployments/{dep.pk}/manifests.yaml")
    assert response["Content-Disposition"] == 'attachment; filename="llama-chat.yaml"'
    assert b"kind: Service" in response.content and b"namespace: tenant-nlp" in response.content


def test_kubernetes_events_tolerate_a_missing_cluster(dep, owner, login, settings):
    settings.KUBECONFIG = "/nonexistent/kubeconfig"
    body = htmx(login(owner), f"/deployments/{dep.pk}/?part=k8s").content.decode()
    assert "Kubernetes events are not available right now" in body


def test_batch_run_progress_duration_and_cost(team, owner, login):
    now = timezone.now().replace(microsecond=0)
    d = DeploymentFactory(team=team, name="nightly", workload=Workload.BATCH, target=Target.ARGO,
                          status=Status.RUNNING, revision=batch_spec(name="nightly"), shards_total=8, shards_done=3,
                          run_started_at=now - timedelta(minutes=30), gpus_in_use=2)
    StatusSample.objects.bulk_create(
        StatusSample(deployment=d, at=now - timedelta(minutes=30 - m), status=Status.RUNNING, ready_pods=2,
                     total_pods=2, gpus_in_use=2) for m in range(30)
    )
    body = login(owner).get(f"/deployments/{d.pk}/").content.decode()
    assert "<strong>3 / 8</strong> shards done" in body
    assert "duration 30m" in body
    assert "cost of the run <strong>$2.70</strong>" in body    # 2 GPUs × 0.5 h × $2.70
    assert "Scale-to-zero ledger" not in body


def _ready_in(page):
    """The Time-to-ready texts of a page, tags stripped: ["Ready in 42 s (estimate 14–38 s)", ...]."""
    import re
    cells = re.findall(r'<(?:td|dd)[^>]*(?:data-ready="\d+"|id="time-to-ready")[^>]*>(.*?)</(?:td|dd)>', page)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def test_time_to_ready_is_shown_per_revision_beside_the_cold_start_estimate(dep, owner, login):
    from catalog.selectors import catalog_snapshot
    from specs.recommend import cold_start_seconds

    rev = dep.current_revision
    pushed = timezone.now() - timedelta(minutes=5)
    Revision.objects.filter(pk=rev.pk).update(pushed_at=pushed, ready_at=pushed + timedelta(seconds=42))
    second = Revision.objects.create(deployment=dep, number=2, spec=rev.spec, pushed_at=timezone.now())
    low, high = cold_start_seconds(rev.spec, catalog_snapshot())
    assert 0 < low < high

    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()

    texts = _ready_in(page)
    # The Overview speaks of the current revision (r1 here); the table of each revision, newest first.
    assert texts == [f"Ready in 42 s (estimate {low}–{high} s)", f"Not ready yet (estimate {low}–{high} s)",
                     f"Ready in 42 s (estimate {low}–{high} s)"], texts
    assert second.ready_seconds is None


def test_a_batch_deployment_shows_no_time_to_ready(team, owner, login):
    d = DeploymentFactory(team=team, name="nightly", workload=Workload.BATCH, target=Target.ARGO,
                          revision=batch_spec(name="nightly"))
    page = login(owner).get(f"/deployments/{d.pk}/").content.decode()
    assert _ready_in(page) == [] and "Time to ready" not in page


def test_the_timeline_runs_events_and_charts_refresh_themselves_until_the_deployment_is_final(dep, owner, login):
    client = login(owner)
    page = client.get(f"/deployments/{dep.pk}/").content.decode()
    for part in ("timeline", "k8s", "chart&amp;range=1h"):
        assert f'?part={part}"' in page, part
    Event.objects.create(deployment=dep, team=dep.team, kind=Event.Kind.STATUS, from_status="running",
                         to_status="scaled_to_zero", message="Now scaled to zero")
    fragment = htmx(client, f"/deployments/{dep.pk}/?part=timeline").content.decode()
    assert fragment.lstrip().startswith('<section class="panel" id="timeline-panel"') and "Now scaled to zero" in fragment
    assert "<html" not in fragment
    dep.status = Status.DELETED
    dep.save()
    page = client.get(f"/deployments/{dep.pk}/").content.decode()
    assert "?part=timeline" not in page and 'hx-trigger="every 30s"' not in page


def test_a_batch_deployments_runs_refresh_while_it_runs(team, owner, login):
    d = DeploymentFactory(team=team, name="nightly", workload=Workload.BATCH, target=Target.ARGO,
                          status=Status.RUNNING, revision=batch_spec(), current_run=1)
    d.runs.create(number=1, revision=1, workflow_name="nightly-run-1", status=Status.RUNNING, shards_total=4,
                  shards_done=1)
    client = login(owner)
    assert "?part=runs" in client.get(f"/deployments/{d.pk}/").content.decode()
    d.runs.filter(number=1).update(shards_done=3)
    fragment = htmx(client, f"/deployments/{d.pk}/?part=runs").content.decode()
    assert 'id="runs"' in fragment and "3/4" in fragment and "<html" not in fragment


# --- Issue 20: the page reads right for a newcomer ------------------------------------------------------------------


def _docs_keys(yaml_text):
    """The top-level keys of each YAML document, in the order written."""
    import yaml

    return [list(doc) for doc in yaml.safe_load_all(yaml_text) if doc]


def test_manifests_read_in_kubernetes_key_order_on_the_page_and_in_the_api(dep, owner, login, api):
    import html

    from specs.render import manifests_render

    # Stored the way the lifecycle stores them: PostgreSQL's jsonb gives them back shorter keys first.
    Revision.objects.filter(pk=dep.current_revision_id).update(
        manifests=manifests_render(dep.current_revision.spec, revision=1))
    assert list(Revision.objects.get(pk=dep.current_revision_id).manifests[0])[0] == "kind"  # scrambled
    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    shown = html.unescape(page.split('<pre id="manifests-yaml">')[1].split("</pre>")[0])
    download = login(owner).get(f"/deployments/{dep.pk}/manifests.yaml").content.decode()
    from_api = api(owner).get(f"/api/v1/deployments/{dep.pk}/manifests/?format=yaml").content.decode()
    for text in (shown, download, from_api):
        for keys in _docs_keys(text):
            assert keys[:3] == ["apiVersion", "kind", "metadata"] and keys.index("spec") == 3, keys
    assert "  name: llama-chat\n  namespace: tenant-nlp\n" in shown  # metadata: name first, then namespace


def test_access_shows_the_url_the_cluster_gave_and_sync_reads_just_now(dep, owner, login):
    dep.last_synced_at = timezone.now() - timedelta(seconds=5)
    dep.save()
    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    access = page.split('id="access">')[1].split("</dd>")[0]
    assert access.startswith("Public: ") and ">https://llama-chat.nlp.example</a>" in access
    assert "Synced just now" in page and "0 minutes" not in page
    dep.url, dep.status = "", Status.APPLYING
    dep.save()
    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    assert "the cluster gives the URL once the service is ready" in page and "none yet" not in page


def test_a_rejected_request_shows_no_sync_ledger_teardown_or_url(dep, owner, login):
    dep.status, dep.decision_reason, dep.url = Status.REJECTED, "Use an A40 instead", ""
    dep.save()
    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    for absent in ('id="synced"', "Not synced yet", 'id="ledger"', 'id="teardown"', 'id="access"', "none yet",
                   'id="logs"', 'id="k8s-events"', 'id="charts"', 'id="traffic"'):
        assert absent not in page, absent
    assert "Use an A40 instead" in page and "Nothing of this request reached the cluster" in page
    # Discarding it needs no typed name: nothing runs.
    response = login(owner).post(f"/deployments/{dep.pk}/teardown/", {"confirm": "llama-chat"})
    dep.refresh_from_db()
    assert response.status_code == 302 and dep.status == Status.DELETING


def test_a_batch_run_shows_no_url_and_its_money_says_what_each_figure_counts(team, owner, login):
    now = timezone.now()
    d = DeploymentFactory(team=team, name="nightly", workload=Workload.BATCH, target=Target.ARGO,
                          revision=batch_spec(name="nightly"), run_started_at=now - timedelta(minutes=30))
    DailySpend.objects.create(deployment=d, team=team, day=now.date(), cost_usd=Decimal("1234.5"), gpu_hours=1)
    page = login(owner).get(f"/deployments/{d.pk}/").content.decode()
    assert 'id="access"' not in page and "none yet" not in page and ">URL<" not in page
    assert 'id="month">$1,234.50<' in page
    note = page.split('id="money-note">')[1].split("</p>")[0]
    assert "every run this calendar month" in note and "the cost of the run counts this run alone" in note


def test_the_last_hour_starts_when_the_deployment_was_created_and_an_empty_spend_chart_says_so(dep, owner, login):
    type(dep).objects.filter(pk=dep.pk).update(created_at=timezone.now() - timedelta(minutes=9, seconds=30))
    body = htmx(login(owner), f"/deployments/{dep.pk}/?part=chart&range=1h").content.decode()
    raw = body[body.index('<script id="chart-data" type="application/json">') + 48:]
    chart = json.loads(raw[: raw.index("</script>")])
    assert len(chart["labels"]) == 10 and chart["has_cost"] is False  # minutes since creation, not 60
    assert 'id="no-spend"' in body and 'data-kind="cost"' not in body


def test_dates_name_their_time_zone_and_empty_event_lists_span_the_panel(dep, owner, login):
    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    created = page.split("<dt>Created</dt><dd>")[1].split("</dd>")[0]
    assert " UTC" in created
    timeline = page.split('id="timeline"')[1].split("</ul>")[0]
    assert " UTC</time>" in timeline
    Event.objects.filter(deployment=dep).delete()
    page = login(owner).get(f"/deployments/{dep.pk}/").content.decode()
    assert '<li class="muted empty">No events yet.</li>' in page
