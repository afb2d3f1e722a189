"""The delivery task: one attempt per run, retried with backoff by Celery up to MAX_ATTEMPTS."""

from celery import shared_task

from .delivery import MAX_ATTEMPTS, delivery_attempt, retry_delay
from .dispatch import DELIVER


@shared_task(bind=True, name=DELIVER, max_retries=MAX_ATTEMPTS - 1, acks_late=True)
def deliver(self, delivery_id):
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome.retry:
        raise self.retry(countdown=retry_delay(outcome.attempts))
    return outcome.state
