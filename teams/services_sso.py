"""Single sign-on logins: the Gantry user for an identity-provider account, and what its groups grant.

At each login the user's groups are matched against the staff-editable `SsoGroupMapping` rows: a
membership a mapping grants is created or its role changed, and one that SSO granted earlier but no
group grants any more is removed. Memberships set by hand are left alone. With OIDC_STAFF_GROUP set,
platform staff (is_staff and is_superuser: the admin console) follows that group too. Every change is
an audit event.
"""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from audit.models import Event
from audit.services import event_record

from .models import Membership, Role, SsoGroupMapping, SsoIdentity

# When several of a user's groups map to one team, the highest role wins.
_RANK = {Role.VIEWER: 0, Role.DEPLOYER: 1, Role.OWNER: 2}
# Characters Django's default username validator refuses (it allows letters, digits and @ . + - _).
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
_SSO = "single sign-on"


def sso_user_login(*, issuer, claims, groups):
    """The user for this account (created on its first login), with its profile, staff status and roles
    brought in line with the claims and groups the identity provider sent this time."""
    subject = str(claims["sub"])
    try:
        with transaction.atomic():
            return _login(issuer=issuer, subject=subject, claims=claims, groups=groups)
    except IntegrityError:
        # The same account's first login ran twice at once and the other one created the user: use it.
        with transaction.atomic():
            return _login(issuer=issuer, subject=subject, claims=claims, groups=groups)


def _login(*, issuer, subject, claims, groups):
    identity = (SsoIdentity.objects.select_for_update().select_related("user")
                .filter(issuer=issuer, subject=subject).first())
    if identity is None:
        identity = SsoIdentity(user=_user_create(claims), issuer=issuer, subject=subject)
    user = identity.user
    _profile_update(user, claims)
    identity.last_login_groups = sorted(groups)
    identity.save()
    sso_staff_apply(user=user, groups=groups)
    sso_roles_apply(user=user, groups=groups)
    return user


def _user_create(claims):
    User = get_user_model()
    email = claims.get("email") or ""
    base = claims.get("preferred_username") or email.split("@")[0] or f"sso-{claims['sub']}"
    base = _USERNAME_UNSAFE.sub("-", str(base))[:140] or "sso-user"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():  # a local account keeps its name
        n += 1
        username = f"{base}-{n}"
    user = User.objects.create_user(username, email=email)  # no password: this account logs in by SSO only
    event_record(kind=Event.Kind.ADMIN, message=f"{username} created at first {_SSO} login",
                 data={"source": "sso", "subject": str(claims["sub"])})
    return user


def _profile_update(user, claims):
    wanted = {"email": claims.get("email"), "first_name": claims.get("given_name"),
              "last_name": claims.get("family_name")}
    changed = [field for field, value in wanted.items()
               if isinstance(value, str) and value[:150] != getattr(user, field)]
    for field in changed:
        setattr(user, field, wanted[field][:150])
    if changed:
        user.save(update_fields=changed)


def sso_staff_apply(*, user, groups):
    """Platform staff exactly when the user is in OIDC_STAFF_GROUP (nothing changes while it is unset)."""
    group = settings.OIDC_STAFF_GROUP
    if not group:
        return
    wanted = group in groups
    if user.is_staff == wanted and user.is_superuser == wanted:
        return
    user.is_staff = user.is_superuser = wanted
    user.save(update_fields=["is_staff", "is_superuser"])
    now = "now" if wanted else "no longer"
    event_record(kind=Event.Kind.ADMIN, message=f"{user.get_username()} is {now} platform staff ({_SSO} group {group})",
                 data={"source": "sso", "diff": [{"field": "is_staff", "old": not wanted, "new": wanted}]})


@transaction.atomic
def sso_roles_apply(*, user, groups):
    """Create, change or remove the user's SSO-granted memberships to match what their groups map to."""
    wanted = {}  # team -> role
    for mapping in SsoGroupMapping.objects.filter(group__in=list(groups)).select_related("team"):
        current = wanted.get(mapping.team)
        if current is None or _RANK[mapping.role] > _RANK[current]:
            wanted[mapping.team] = Role(mapping.role)
    held = {m.team_id: m for m in Membership.objects.select_for_update().filter(user=user).select_related("team")}
    name = user.get_username()
    for membership in held.values():
        if not membership.granted_by_sso:
            continue  # set by staff: theirs to change
        role = wanted.get(membership.team)
        if role is None:
            membership.delete()
            _record(membership.team, f"{name} removed ({_SSO}: no group grants a role any more)",
                    name, membership.role, None)
        elif membership.role != role:
            old, membership.role = membership.role, role
            membership.save(update_fields=["role"])
            _record(membership.team, f"{name} is now {role} ({_SSO})", name, old, role)
    for team, role in wanted.items():
        if team.pk not in held:
            Membership.objects.create(user=user, team=team, role=role, granted_by_sso=True)
            _record(team, f"{name} is now {role} ({_SSO})", name, None, role)


def _record(team, message, name, old, new):
    event_record(kind=Event.Kind.TEAM, team=team, message=f"Team {team.slug}: {message}",
                 data={"source": "sso", "diff": [{"field": f"members.{name}", "old": old, "new": new}]})
