"""Plain domain types shared by the stages of the data flow."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

_FNV64_OFFSET = 14695981039346656037
_FNV64_PRIME = 1099511628211
_FNV64_MASK = 0xFFFFFFFFFFFFFFFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set: FNV-1a 64 over sorted names and values.

    Matching Alertmanager bit for bit lets users correlate an incident's alerts with
    what `amtool` and the Alertmanager UI show.
    """
    return _fingerprint_of_items(tuple(sorted(labels.items())))


@lru_cache(maxsize=65536)
def _fingerprint_of_items(items: tuple[tuple[str, str], ...]) -> str:
    # Cached: senders repeat the same alerts every group interval.
    data = b"".join(name.encode() + b"\xff" + value.encode() + b"\xff" for name, value in items)
    digest = _FNV64_OFFSET
    for byte in data:
        digest = ((digest ^ byte) * _FNV64_PRIME) & _FNV64_MASK
    return f"{digest:016x}"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One alert as received, normalized from whichever payload carried it."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    status: AlertStatus
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class AlertBatch:
    """Alerts that arrived in one request; `group_key` is Alertmanager's, when it sent one."""

    source: str
    alerts: list[Alert]
    group_key: str | None = None
    group_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the store keeps it: the latest state of one fingerprint."""

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    status: AlertStatus
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    source: str
    first_seen: datetime
    last_seen: datetime
    receive_count: int


@dataclass(frozen=True)
class Incident:
    id: int
    group_key: str
    group_labels: dict[str, str]
    route: str
    policy: str | None
    severity: str
    title: str
    service: str | None
    status: IncidentStatus
    triggered_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    updated_at: datetime


@dataclass(frozen=True)
class TimelineEvent:
    """One line of an incident's history: who did what, when."""

    incident_id: int
    at: datetime
    actor: str
    kind: str
    message: str
    data: dict[str, object]


# Rule packs link runbooks through gatewatch's external URL, filled in when rendered.
EXTERNAL_URL_PLACEHOLDER = "__EXTERNAL_URL__"


@dataclass(frozen=True)
class RulePack:
    """Prometheus rule groups under a name: a shipped pack or the rules of an SLO spec."""

    name: str
    groups: list[dict[str, Any]]

    def alerts(self) -> list[dict[str, Any]]:
        return [rule for group in self.groups for rule in group["rules"] if "alert" in rule]

    def runbook_slugs(self) -> set[str]:
        return {str(rule["annotations"]["runbook_url"]).rsplit("/", 1)[1] for rule in self.alerts()}


@dataclass(frozen=True)
class Override:
    """Someone on call for a schedule in a window, in place of its rotation."""

    id: int
    schedule_id: str
    person_id: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    layer: str | None = None  # one layer of the schedule; None: the whole schedule
