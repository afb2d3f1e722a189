"""Deliveries reach the workers by task name after the transaction commits (taskqueue).

If the broker is down the action has still succeeded and the Delivery row stays pending.
"""

from taskqueue import send_after_commit

DELIVER = "notifications.tasks.deliver"


def deliver_dispatch(*, delivery_id):
    send_after_commit(DELIVER, delivery_id, later="the delivery stays pending")
