"""deployments: what a team runs, and every command that changes it.

Owns the Deployment, Revision, Draft and IdempotencyKey models; the state machine (state.py:
transitions, what an observation means, the scale-to-zero state); the lifecycle commands
(services/: create, change, approve, push, teardown, sync, reconcile); dispatch to the workers
(dispatch.py, tasks.py); the wizard, dashboard and detail pages (views/); the REST API (api/)
and the staff console (admin.py).
"""
