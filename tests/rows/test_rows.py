"""rows/: plain-SQL reads and writes give and store what the ORM gives and stores."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Event
from deployments.models import Deployment, Revision
from rows.read import row_read, rows_read
from rows.write import rows_insert
from teams.models import ApiToken, Team
from teams.services import token_create
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_token_is_read_with_its_user_as_the_orm_reads_it(django_assert_num_queries):
    user = UserFactory(username="ada")
    token, _key = token_create(user=user, name="ci")
    orm = ApiToken.objects.select_related("user").get(pk=token.pk)
    with django_assert_num_queries(1):
        read = row_read(ApiToken, {"key_hash": token.key_hash, "revoked_at__isnull": True}, ("user",))
        assert read.user.username == "ada"
    assert _fields(read) == _fields(orm) and _fields(read.user) == _fields(orm.user)
    assert row_read(ApiToken, {"key_hash": token.key_hash, "revoked_at__isnull": False}) is None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert row_read(ApiToken, {"key_hash": token.key_hash, "revoked_at__isnull": True}) is None
    assert row_read(ApiToken, {"key_hash": token.key_hash, "revoked_at__isnull": False}).pk == token.pk


def test_more_than_one_matching_row_is_an_error_as_with_get():
    TeamFactory(slug="a", gpu_quota=7)
    TeamFactory(slug="b", gpu_quota=7)
    with pytest.raises(Team.MultipleObjectsReturned):
        row_read(Team, {"gpu_quota": 7})
    assert row_read(Team, {"slug": "b"}).monthly_budget_usd == Team.objects.get(slug="b").monthly_budget_usd


def test_rows_naming_one_another_are_inserted_in_one_statement_with_the_models_defaults(
        django_assert_num_queries):
    team, user = TeamFactory(slug="nlp"), UserFactory()
    deployment = Deployment(team=team, name="llama", created_by=user, monthly_max_usd=Decimal("12.50"))
    revision = Revision(number=1, spec={"name": "llama"}, manifests=[{"kind": "Service"}], created_by=user)
    revision.deployment, deployment.current_revision = deployment, revision
    with transaction.atomic(), django_assert_num_queries(1):
        rows_insert(deployment, revision, Event(deployment=deployment, team=team, kind=Event.Kind.CREATED))
    with django_assert_num_queries(0):  # each holds the other, as after the ORM's save()
        assert deployment.current_revision is revision and revision.deployment is deployment
        assert deployment.current_revision_id == revision.pk and revision.deployment_id == deployment.pk
    stored = Deployment.objects.select_related("current_revision").get(pk=deployment.pk)
    assert stored.current_revision.pk == revision.pk and stored.current_revision.deployment_id == deployment.pk
    assert stored.current_revision.manifests == [{"kind": "Service"}] and stored.monthly_max_usd == Decimal("12.50")
    assert stored.superseded == [] and stored.created_at == deployment.created_at  # default and auto_now_add
    assert stored.events.get().kind == Event.Kind.CREATED
    deployment.name = "renamed"
    deployment.save(update_fields=["name"])  # a saved instance from here on: an UPDATE, not a second INSERT
    assert Deployment.objects.get(pk=deployment.pk).name == "renamed"


def test_every_kind_of_value_is_stored_as_the_orms_save_stores_it():
    """Each row goes to PostgreSQL as one JSON document: timestamps to the microsecond, exact decimals, text
    with quotes, backslashes and characters beyond ASCII, JSON with nested values, an empty list and nulls
    must come back as the ORM's own INSERT leaves them."""
    team, user = TeamFactory(slug="nlp"), UserFactory()
    at = timezone.now().replace(microsecond=123456)
    spec = {"name": "llama", "note": 'quote " back\\slash \u2028 é 模型 🚀', "big": 2**62, "ratio": 0.1,
            "nested": {"list": [1, None, True, {"k": []}]}}
    values = dict(team=team, created_by=user, status_message='a "quoted" \\ é 🚀', monthly_max_usd=Decimal("0.05"),
                  last_synced_at=at, idle_since=None, superseded=[{"revision": 2, "at": "x"}], gpus_max=3)
    by_orm = Deployment.objects.create(name="orm", **values)
    Revision.objects.create(deployment=by_orm, number=1, spec=spec, manifests=[])
    deployment = Deployment(name="rows", **values)
    revision = Revision(number=1, spec=spec, manifests=[], created_by=user)
    revision.deployment, deployment.current_revision = deployment, revision
    with transaction.atomic():
        rows_insert(deployment, revision)
    ignored = {"id", "name", "created_at", "updated_at", "current_revision_id"}
    stored, orm = Deployment.objects.get(name="rows"), Deployment.objects.get(name="orm")
    assert {k: v for k, v in _fields(stored).items() if k not in ignored} == \
        {k: v for k, v in _fields(orm).items() if k not in ignored}
    assert stored.last_synced_at == at and stored.monthly_max_usd == Decimal("0.05")
    assert stored.created_at == deployment.created_at and stored.updated_at == deployment.updated_at
    assert Revision.objects.get(deployment=stored).spec == spec == Revision.objects.get(deployment=orm).spec


def test_a_json_value_the_orm_cannot_write_is_refused_as_the_orm_refuses_it():
    team = TeamFactory(slug="nlp")
    deployment = Deployment(team=team, name="llama")
    revision = Revision(number=1, spec={"at": timezone.now()})  # not JSON: the field has no encoder for it
    revision.deployment, deployment.current_revision = deployment, revision
    with pytest.raises(TypeError, match="not JSON serializable"), transaction.atomic():
        Revision.objects.create(deployment=Deployment.objects.create(team=team, name="orm"), number=1,
                                spec=revision.spec)
    with pytest.raises(TypeError, match="not JSON serializable"), transaction.atomic():
        rows_insert(deployment, revision)
    assert not Deployment.objects.filter(name="llama").exists()


def test_a_refused_insert_writes_none_of_the_rows():
    team = TeamFactory(slug="nlp")
    Deployment.objects.create(team=team, name="llama")
    twin, revision = Deployment(team=team, name="llama"), Revision(number=1, spec={})
    with pytest.raises(IntegrityError), transaction.atomic():
        revision.deployment, twin.current_revision = twin, revision
        rows_insert(twin, revision)
    assert Deployment.objects.count() == 1 and not Revision.objects.exists()


def test_rows_are_read_with_their_related_rows_and_deferred_fields_as_the_orm_reads_them(
        django_assert_num_queries):
    team, user = TeamFactory(slug="nlp"), UserFactory()
    made = []
    for name in ("b", "a", "c"):
        deployment = Deployment.objects.create(team=team, name=name, status="running", created_by=user)
        revision = Revision.objects.create(deployment=deployment, number=1, spec={"name": name},
                                           manifests=[{"kind": "Service"}])
        deployment.current_revision = revision
        deployment.save(update_fields=["current_revision"])
        made.append(deployment)
    Deployment.objects.filter(name="c").update(status="deleted")
    keys = [d.pk for d in made]
    with transaction.atomic(), django_assert_num_queries(1):
        read = rows_read(Deployment, {"id__in": keys, "status__in": ["running", "queued"]}, ("current_revision",),
                         omit=(("current_revision", "manifests"),), lock=True)
        assert [d.name for d in read] == ["b", "a"]  # by key, the deleted one left out
        assert [d.current_revision.spec for d in read] == [{"name": "b"}, {"name": "a"}]
    orm = Deployment.objects.select_related("current_revision").filter(pk__in=keys[:2]).order_by("pk")
    assert [_fields(d) for d in read] == [_fields(d) for d in orm]
    with django_assert_num_queries(1):  # a deferred field is read on first use, as defer() leaves it
        assert read[0].current_revision.manifests == [{"kind": "Service"}]


def test_stamping_every_live_deployment_leaves_the_indexes_alone():
    """A sweep stamps last_synced_at on every live deployment: heap-only updates (no index entry written), which
    need room on the row's own page (migration 0014, fillfactor). Counted by PostgreSQL's own statistics for the
    current transaction (pg_stat_get_xact_tuples_hot_updated, PostgreSQL 15 docs, "The Cumulative Statistics
    System")."""
    from django.db import connection
    from django.utils import timezone

    team, user = TeamFactory(slug="nlp"), UserFactory()
    Deployment.objects.bulk_create([Deployment(team=team, name=f"d{i}", created_by=user, status="running",
                                               status_message="x" * 200) for i in range(300)])
    updated = Deployment.objects.update(last_synced_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('deployments_deployment'::regclass)")
        hot = cursor.fetchone()[0]
    # 30 % of each page is left free: about 3 rows in 7 have room for their next version on the first stamp
    # (later ones, in later transactions, also reuse what pruning frees); on full pages, none had.
    assert updated == 300 and hot >= updated // 3, f"{hot} of {updated} updates were heap-only"
