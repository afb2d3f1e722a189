"""The deployments' tasks, queued by name after the transaction commits (taskqueue).

If the broker is down the request still succeeds and the reconcile task queues the work later.
"""

from taskqueue import send_after_commit

# Task names, shared with deployments/tasks.py (which registers them) and the beat schedule.
PUSH = "deployments.tasks.push_deployment"
TEARDOWN = "deployments.tasks.teardown_deployment"
SYNC = "deployments.tasks.sync_status"
RECONCILE = "deployments.tasks.reconcile"
ROLLUP = "deployments.tasks.rollup_spend"
CAPACITY = "deployments.tasks.refresh_capacity"


def _on_commit(name, *args):
    send_after_commit(name, *args, later="the reconcile task will queue it again")


def push_dispatch(*, deployment_id, revision):
    _on_commit(PUSH, deployment_id, revision)


def teardown_dispatch(*, deployment_id):
    _on_commit(TEARDOWN, deployment_id)


def sync_dispatch():
    _on_commit(SYNC)
