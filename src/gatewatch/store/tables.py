"""The database schema; Alembic migrations must produce exactly this (a test checks)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, also on SQLite which stores naive text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

alerts = Table(
    "alerts",
    metadata,
    Column("fingerprint", String(16), primary_key=True),
    Column("alertname", String(255), nullable=False, index=True),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime),
    Column("generator_url", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("receive_count", Integer, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_key", String(64), nullable=False),
    Column("group_labels", JSON, nullable=False),
    Column("route", String(255), nullable=False),
    Column("policy", String(255)),
    Column("severity", String(64), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("service", String(255), index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("triggered_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(255)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(255)),
    Column("updated_at", UTCDateTime, nullable=False),
    # One open incident per grouping key, enforced by the database, not only by code.
    Index(
        "uq_incidents_open_group_key",
        "group_key",
        unique=True,
        sqlite_where=text("status != 'resolved'"),
        postgresql_where=text("status != 'resolved'"),
    ),
)

incident_alerts = Table(
    "incident_alerts",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("fingerprint", String(16), ForeignKey("alerts.fingerprint"), primary_key=True),
    Column("attached_at", UTCDateTime, nullable=False),
    Index("ix_incident_alerts_fingerprint", "fingerprint"),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False),
)

# The escalation plan frozen when the incident started: later config edits do not touch it.
incident_escalations = Table(
    "incident_escalations",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("policy", String(255)),
    Column("plan", JSON, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
)

# Durable timers: escalation steps, ack time-outs, reminders. A loop claims due rows.
timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("step", Integer),
    Column("cycle", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("outcome", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    # Set by the pass that will run the timer; another pass takes it once the lease is over.
    Column("claim", String(36)),
    Column("claimed_until", UTCDateTime),
    Index("ix_timers_status_due_at", "status", "due_at"),
)

# The outbox: written in the transaction of the change that causes it, sent by the dispatcher.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), index=True),
    Column("channel", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("person", String(255)),
    Column("message", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    # The same page written twice (a timer run twice) is one notification.
    Column("dedup_key", String(255), nullable=False, unique=True),
    Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
)

oncall_overrides = Table(
    "oncall_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule_id", String(255), nullable=False, index=True),
    Column("person_id", String(255), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("layer", String(255)),  # one layer only; none: the whole schedule
)

# Post-incident reviews: one per incident, written by people after it is resolved.
reviews = Table(
    "reviews",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("summary", Text, nullable=False),
    Column("impact", Text, nullable=False),
    Column("root_cause", Text, nullable=False),
    Column("resolution", Text, nullable=False),
    Column("went_well", Text, nullable=False),
    Column("went_wrong", Text, nullable=False),
    Column("lessons", Text, nullable=False),
    Column("updated_by", String(255), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

action_items = Table(
    "action_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("owner", String(255), nullable=False),
    Column("due", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime),
    Column("missed", Boolean, nullable=False),
)

# Console sign-ins: the cookie holds a random id whose hash is the key here, so sign-out and
# the removal of a user end the session on every replica.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(320), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_sign_in_failures_key_at", "key", "at"),
)

# A token bucket per channel, shared by every process: the dispatcher takes tokens under this
# row's lock in the transaction that claims the notifications, so N replicas together send a
# channel no faster than its rate.
channel_throttles = Table(
    "channel_throttles",
    metadata,
    Column("channel", String(255), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
