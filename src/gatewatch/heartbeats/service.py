"""Heartbeats: alerts such as Prometheus's always-firing Watchdog prove that the pipeline in
front of gatewatch works. They are taken out of ingest (a signal, not an incident) and
recorded; a heartbeat silent for longer than its interval opens a HeartbeatMissed incident,
routed and paged like any other, resolved when the heartbeat returns.

The state is a row per heartbeat, so every replica sees the same; a replica that pages twice
sends the same alert twice, which ingest treats as one.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial

from sqlalchemy import Connection

from gatewatch.config.schema import HeartbeatConfig
from gatewatch.durations import format_duration
from gatewatch.matchers import match_all
from gatewatch.model import Alert, AlertBatch, AlertStatus, fingerprint
from gatewatch.runtime import Runtime
from gatewatch.store import heartbeats as heartbeat_store
from gatewatch.store.database import read_transaction, run_transaction

MISSED = "HeartbeatMissed"
SOURCE = "heartbeat"


class Heartbeats:
    def __init__(
        self, runtime: Runtime, configs: Sequence[HeartbeatConfig], external_url: str
    ) -> None:
        self._runtime = runtime
        self._configs = configs
        self._runbook = f"{external_url.rstrip('/')}/runbooks/heartbeat-missed"
        # A process that was down saw no heartbeats meanwhile: it judges silence from its own
        # start, so a restart does not page for the downtime (GatewatchDown covered that).
        self._started_at = runtime.clock.now()

    def take(self, connection: Connection, batch: AlertBatch, now: datetime) -> AlertBatch:
        """Record the heartbeats in the batch; return the batch without them."""
        if not self._configs:
            return batch
        seen: set[str] = set()
        rest: list[Alert] = []
        for alert in batch.alerts:
            beats = [
                config.name
                for config in self._configs
                if alert.name != MISSED and match_all(config.parsed_matchers, alert.labels)
            ]
            if not beats:
                rest.append(alert)
            elif alert.status is AlertStatus.FIRING:
                seen.update(beats)
        if seen:
            heartbeat_store.seen(connection, seen, now)
        return batch if len(rest) == len(batch.alerts) else replace(batch, alerts=rest)

    def check(self, ingest: Callable[[AlertBatch], object]) -> int:
        """Page for each heartbeat silent past its interval; resolve the page when it is back.
        Returns how many heartbeats changed state."""
        if not self._configs:
            return 0
        now = self._runtime.clock.now()
        database = self._runtime.database

        with read_transaction(database) as connection:
            known = heartbeat_store.load(connection)
        if any(config.name not in known for config in self._configs):

            def states(connection: Connection) -> dict[str, heartbeat_store.HeartbeatState]:
                heartbeat_store.ensure(connection, (c.name for c in self._configs), now)
                return heartbeat_store.load(connection)

            known = run_transaction(database, states)
        changed = 0
        for config in self._configs:
            state = known[config.name]
            since = max(state.last_seen_at or state.created_at, self._started_at)
            silent = now - since > config.interval
            if silent == state.missed:
                continue
            # The page first, then the flag: a crash in between pages again, never not at all.
            ingest(AlertBatch(source=SOURCE, alerts=[self._alert(config, silent, since, now)]))
            run_transaction(
                database, partial(heartbeat_store.set_missed, name=config.name, missed=silent)
            )
            changed += 1
        return changed

    def _alert(
        self, config: HeartbeatConfig, silent: bool, since: datetime, now: datetime
    ) -> Alert:
        labels = {
            "alertname": MISSED,
            "heartbeat": config.name,
            "severity": config.severity,
            "service": "gatewatch",
        }
        interval = format_duration(config.interval)
        return Alert(
            labels=labels,
            annotations={
                "summary": f"Heartbeat {config.name} missed: nothing for {interval}",
                "description": (
                    f"No alert matching {', '.join(config.matchers)} arrived for {interval} "
                    f"(last at {since.isoformat()}): whatever sends it (Prometheus, "
                    "Alertmanager, the network to gatewatch) may be down, so other alerts "
                    "may not be arriving either."
                ),
                "runbook_url": self._runbook,
            },
            starts_at=since + config.interval,
            ends_at=None if silent else now,
            generator_url="",
            status=AlertStatus.FIRING if silent else AlertStatus.RESOLVED,
            fingerprint=fingerprint(labels),
        )
