"""With the database down, ingest answers 503 (Alertmanager retries) and readiness goes red."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gatewatch.config import GatewatchConfig
from gatewatch.store.database import create_database_engine, migrate
from gatewatch.web.app import create_app
from gatewatch.wiring.services import build_services
from tests.support.auth import TOKEN_CONFIG, auth
from tests.support.clock import ManualClock
from tests.support.payloads import webhook, webhook_alert
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.postgres


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.destroy()


def _store_up(api: TestClient) -> float:
    response = api.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        if family.name == "gatewatch_store_up":
            return float(family.samples[0].value)
    raise AssertionError("gatewatch_store_up missing")


def test_outage_gives_503_and_nothing_accepted_is_lost(own_cluster: PostgresCluster) -> None:
    config = GatewatchConfig.model_validate(
        {"storage": {"url": own_cluster.url()}, "auth": {"tokens": TOKEN_CONFIG}}
    )
    database = create_database_engine(config.database_url)
    migrate(database)
    api = TestClient(create_app(build_services(config, database, ManualClock())))
    before = webhook([webhook_alert({"alertname": "Before"})], group_key="before")
    during = webhook([webhook_alert({"alertname": "During"})], group_key="during")
    assert (
        api.post("/api/v1/webhooks/alertmanager", json=before, headers=auth("ingest")).status_code
        == 200
    )

    own_cluster.stop()
    refused = api.post("/api/v1/webhooks/alertmanager", json=during, headers=auth("ingest"))
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["error"].startswith("database unavailable")
    assert api.get("/readyz").status_code == 503
    assert _store_up(api) == 0

    own_cluster.start()
    # Alertmanager's retry of the refused request now succeeds.
    assert (
        api.post("/api/v1/webhooks/alertmanager", json=during, headers=auth("ingest")).status_code
        == 200
    )
    assert api.get("/readyz").status_code == 200
    titles = sorted(
        i["title"] for i in api.get("/api/v1/incidents", headers=auth("viewer")).json()["items"]
    )
    assert titles == ["Before summary", "During summary"]
    database.dispose()
