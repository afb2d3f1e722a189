"""The pure spec functions with the facts the services would pass them (the seeded catalog, the user's teams)."""

from catalog.selectors import catalog_snapshot
from specs.recommend import spec_complete
from specs.validation import spec_validate
from teams.selectors import team_slugs_for_user


def validate(spec, *, user=None):
    return spec_validate(spec, catalog=catalog_snapshot(), teams=team_slugs_for_user(user))


def complete(spec):
    return spec_complete(spec, catalog=catalog_snapshot())
