"""Notifications: signed webhooks and email when something a team or staff must act on happens.

Below deployments and spend (they call `notify`), above teams; delivery runs in the workers.
"""
