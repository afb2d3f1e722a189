import hashlib
import secrets

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from .slugs import TEAM_SLUG_HELP, TEAM_SLUG_RE

slug_validator = RegexValidator(TEAM_SLUG_RE.pattern, TEAM_SLUG_HELP)


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    DEPLOYER = "deployer", "Deployer"
    OWNER = "owner", "Owner"


# Roles that may create, change and delete deployments.
DEPLOY_ROLES = (Role.DEPLOYER, Role.OWNER)


class Team(models.Model):
    slug = models.CharField(max_length=32, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    monthly_budget_usd = models.DecimalField(
        max_digits=12, decimal_places=2, default=1000, validators=[MinValueValidator(0)]
    )
    gpu_quota = models.PositiveIntegerField(default=8, help_text="Most GPUs the team may request at once")
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    granted_by_sso = models.BooleanField(
        "granted by SSO",
        default=False,
        help_text="Set from the user's identity-provider groups at each single sign-on login; "
                  "a change made here by staff makes it a manual membership, which SSO leaves alone",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]

    def __str__(self):
        return f"{self.user} in {self.team} as {self.role}"

    @property
    def can_deploy(self):
        return self.role in DEPLOY_ROLES


class SsoGroupMapping(models.Model):
    """An identity-provider group that gives its members a role in a team, applied at each SSO login."""

    group = models.CharField(
        max_length=255,
        help_text="The group exactly as the identity provider sends it in the groups claim, e.g. ml-nlp-deployers",
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="sso_mappings")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["group", "team__slug"]
        verbose_name = "SSO group mapping"
        constraints = [models.UniqueConstraint(fields=["group", "team"], name="one_role_per_group_and_team")]

    def __str__(self):
        return f"{self.group} → {self.team} as {self.role}"


class SsoIdentity(models.Model):
    """Which identity-provider account (issuer and subject, the OIDC `sub`) a Gantry user logs in as."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    last_login_groups = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "SSO identities"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_sso_subject")]

    def __str__(self):
        return f"{self.user} ({self.subject} at {self.issuer})"


def token_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A per-user API key. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise the key")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key():
        return "gnt_" + secrets.token_urlsafe(32)
