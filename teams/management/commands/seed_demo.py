"""Create the demo team and users for `make run` (idempotent)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from teams.models import Membership, Role, Team

DEMO_USER, DEMO_PASSWORD = "demo", "gantry-demo"
STAFF_USER, STAFF_PASSWORD = "admin", "gantry-admin"


class Command(BaseCommand):
    help = "Create a demo team, a demo user (deployer/owner) and a platform staff user."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        team, _ = Team.objects.get_or_create(
            slug="demo", defaults={"name": "Demo team", "monthly_budget_usd": 5000, "gpu_quota": 16}
        )
        user, created = User.objects.get_or_create(username=DEMO_USER, defaults={"email": "demo@example.com"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.OWNER})
        staff, created = User.objects.get_or_create(
            username=STAFF_USER, defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True}
        )
        if created:
            staff.set_password(STAFF_PASSWORD)
            staff.save()
        self.stdout.write(self.style.SUCCESS(
            f"Demo login: {DEMO_USER} / {DEMO_PASSWORD}   (platform staff: {STAFF_USER} / {STAFF_PASSWORD})"
        ))
