"""A create costs the same number of SQL queries, at most 4, in a team of 3 deployments as in a team of 41."""

import pytest

from deployments.services import lifecycle
from specs.vocabulary import Status
from tests.factories import DeploymentFactory, online_spec

pytestmark = pytest.mark.django_db

# The team and the user's role; the team's row locked; what its deployments hold with the month's spend
# (one statement); the deployment, the revision and the event, their keys taken in that same statement. Plus the
# savepoint that the test's own transaction turns the create's transaction into (SAVEPOINT, RELEASE SAVEPOINT).
QUERIES_PER_CREATE = 4 + 2


def test_a_create_makes_no_more_queries_in_a_larger_team(team, deployer, django_assert_max_num_queries):
    team.gpu_quota = 1000
    team.save()
    lifecycle.deployment_create(user=deployer, spec=online_spec(name="first"))  # the catalog is cached from here on
    DeploymentFactory.create_batch(2, team=team)
    with django_assert_max_num_queries(QUERIES_PER_CREATE) as small:
        created = lifecycle.deployment_create(user=deployer, spec=online_spec(name="in-a-team-of-3"))
    DeploymentFactory.create_batch(37, team=team, status=Status.SCALED_TO_ZERO)
    with django_assert_max_num_queries(QUERIES_PER_CREATE) as large:
        also = lifecycle.deployment_create(user=deployer, spec=online_spec(name="in-a-team-of-41"))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert created.status == also.status == Status.QUEUED
