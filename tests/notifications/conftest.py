import pytest

from notifications.delivery import delivery_attempt

from .servers import Receiver, SmtpServer, smtp_mailers


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.MAILERS = smtp_mailers(server.port)
        yield server


@pytest.fixture(autouse=True)
def _local_webhooks(settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_WEBHOOKS = True  # the receiver listens on 127.0.0.1


@pytest.fixture
def deliver_queued(dispatched):
    """Run what the services queued as the worker would, every retry at once: [(delivery id, outcomes)]."""

    def _run():
        done = []
        for (delivery_id,) in dispatched.deliver.calls:
            outcomes = [delivery_attempt(delivery_id=delivery_id)]
            while outcomes[-1].retry:
                outcomes.append(delivery_attempt(delivery_id=delivery_id))
            done.append((delivery_id, outcomes))
        return done

    return _run
