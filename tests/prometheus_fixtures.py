"""A real Prometheus scraping the session's sandbox (registered from tests/conftest.py).

- `prometheus_server`: one Prometheus per test session, scraping the sandbox's `/metrics/pods`
  every second (sandbox/prometheus.py). Without the binary the test fails saying what to install.
- `prometheus`: that server, with settings.PROMETHEUS_URL and PROMETHEUS_SCRAPE_SECONDS pointing at it.
"""

import pytest

from sandbox.prometheus import PrometheusMissing, PrometheusServer

SCRAPE_SECONDS = 1


@pytest.fixture(scope="session")
def prometheus_server(sandbox_server):
    server = PrometheusServer(sandbox_server.url, interval=f"{SCRAPE_SECONDS}s")
    try:
        server.start()
    except PrometheusMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def prometheus(prometheus_server, settings):
    settings.PROMETHEUS_URL = prometheus_server.url
    settings.PROMETHEUS_SCRAPE_SECONDS = SCRAPE_SECONDS
    return prometheus_server
