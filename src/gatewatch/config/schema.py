"""The gatewatch.yml model: the top level and the small sections; each stage's own section
lives beside it in this package and is handed to that stage alone."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

from pydantic import Field, PrivateAttr, field_validator, model_validator

from gatewatch.config.auth import AuthConfig
from gatewatch.config.base import ConfigModel
from gatewatch.config.channels import ChannelConfig, DeliveryConfig
from gatewatch.config.oncall import PersonConfig, ScheduleConfig
from gatewatch.config.policies import PolicyConfig, SchedulerConfig, Target
from gatewatch.config.rules import RulesTuning
from gatewatch.durations import Duration
from gatewatch.matchers import Matcher, MatcherSyntaxError, parse_matcher

DEFAULT_LISTEN = "127.0.0.1:8787"
# Channels that can carry a hand-off announcement (PagerDuty pages; it does not chat).
ANNOUNCING_CHANNELS = ("slack", "email", "webhook")
PathKey = tuple[str | int, ...]


def check_listen(listen: str) -> str:
    """`host:port` with a port in range; raises ValueError otherwise."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {listen!r}")
    return listen


class StorageConfig(ConfigModel):
    url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite under data_dir"
    )


class EndpointConfig(ConfigModel):
    url: str

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        return url.rstrip("/")


class RedisConfig(ConfigModel):
    url: str = Field(
        description="redis://, rediss:// or unix:// URL; channel throttles are kept there "
        "instead of in the database (the database's buckets take over while it is down)"
    )

    @field_validator("url")
    @classmethod
    def _redis(cls, url: str) -> str:
        if not re.match(r"^(rediss?://[^/\s]+|unix:///\S+)", url):
            raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got {url!r}")
        return url


class SeverityLevel(ConfigModel):
    name: str = Field(min_length=1)
    respond_within: Duration | None = None
    escalate_after: Duration | None = None
    reminder_after: Duration | None = Field(
        default=None, description="Remind the channels (no page) while still unresolved"
    )
    channels: list[str] = []
    description: str = ""


DEFAULT_SEVERITIES = [
    SeverityLevel(
        name="critical",
        respond_within=timedelta(minutes=5),
        escalate_after=timedelta(minutes=15),
        channels=["pagerduty", "slack", "email"],
        description="Service down, circuit breaker triggered, high message loss",
    ),
    SeverityLevel(
        name="P1",
        respond_within=timedelta(minutes=15),
        escalate_after=timedelta(minutes=30),
        channels=["pagerduty", "slack"],
        description="High P99 latency",
    ),
    SeverityLevel(
        name="P2",
        respond_within=timedelta(hours=1),
        reminder_after=timedelta(hours=2),
        channels=["slack"],
        description="High ACK timeout rate; reminder, manual escalation after 2 h",
    ),
    SeverityLevel(
        name="warning",
        respond_within=timedelta(hours=4),
        channels=["slack"],
        description="Reviewed during business hours",
    ),
    SeverityLevel(name="info", channels=["slack"], description="Informational"),
]


class _Matched(ConfigModel):
    """A section that selects alerts with Alertmanager matchers, parsed once here."""

    matchers: list[str] = []
    _parsed: list[Matcher] = PrivateAttr(default_factory=list)

    @field_validator("matchers")
    @classmethod
    def _valid_matchers(cls, matchers: list[str]) -> list[str]:
        for text in matchers:
            try:
                parse_matcher(text)
            except MatcherSyntaxError as exc:
                raise ValueError(str(exc)) from exc
        return matchers

    def model_post_init(self, context: Any) -> None:
        self._parsed = [parse_matcher(text) for text in self.matchers]

    @property
    def parsed_matchers(self) -> list[Matcher]:
        return self._parsed


class RouteConfig(_Matched):
    name: str = Field(min_length=1)
    group_by: list[str] | None = None
    continue_: bool = Field(default=False, alias="continue")
    policy: str | None = None


class HeartbeatConfig(_Matched):
    """A signal that must keep arriving (Prometheus's always-firing Watchdog): when no
    matching alert comes within `interval`, the silence itself pages."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=255)
    matchers: list[str] = Field(min_length=1)
    interval: Duration
    severity: str = Field(default="critical", description="of the HeartbeatMissed alert")


class FallbackConfig(ConfigModel):
    """Where Alertmanager pages when gatewatch itself is down (GatewatchDown), bypassing
    gatewatch: e-mail through an SMTP server, PagerDuty, or both."""

    email_to: list[str] = []
    email_from: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    smarthost: str | None = Field(default=None, description="host:port of the SMTP server")
    require_tls: bool = True
    pagerduty_routing_key: str | None = Field(
        default=None, min_length=32, max_length=32, repr=False
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.email_to and not (self.email_from and self.smarthost):
            raise ValueError("email_to needs email_from and smarthost")
        return self

    def receiver(self) -> dict[str, Any] | None:
        """The Alertmanager receiver, or None when nothing is configured."""
        receiver: dict[str, Any] = {}
        if self.email_to:
            receiver["email_configs"] = [
                {
                    "to": ", ".join(self.email_to),
                    "from": self.email_from,
                    "smarthost": self.smarthost,
                    "require_tls": self.require_tls,
                    "send_resolved": True,
                }
            ]
        if self.pagerduty_routing_key:
            receiver["pagerduty_configs"] = [
                {"routing_key": self.pagerduty_routing_key, "send_resolved": True}
            ]
        return receiver or None


class SloMonitorConfig(ConfigModel):
    """SLOs whose budgets gatewatch watches through Prometheus (empty: the shipped ones)."""

    specs: list[Path] = []
    poll_interval: Duration = timedelta(seconds=30)
    enabled: bool = True


class LimitsConfig(ConfigModel):
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_alerts_per_request: int = Field(default=10_000, gt=0)


class GatewatchConfig(ConfigModel):
    listen: str = DEFAULT_LISTEN
    external_url: str = f"http://{DEFAULT_LISTEN}"
    data_dir: Path = Path(".gatewatch")
    runbooks_dir: Path = Field(
        default=Path("runbooks"), description="Markdown runbooks served at /runbooks/<slug>"
    )
    storage: StorageConfig = StorageConfig()
    auth: AuthConfig = AuthConfig()
    prometheus: EndpointConfig = EndpointConfig(url="http://127.0.0.1:9090")
    alertmanager: EndpointConfig = EndpointConfig(url="http://127.0.0.1:9093")
    redis: RedisConfig | None = None
    grafana: EndpointConfig | None = Field(
        default=None,
        description="Grafana as people's browsers reach it: /dashboards/<uid> links lead there",
    )
    rules: RulesTuning = RulesTuning()
    severities: list[SeverityLevel] = DEFAULT_SEVERITIES
    default_severity: str = "warning"
    routes: list[RouteConfig] = []
    default_policy: str | None = None
    policies: dict[str, PolicyConfig] = {}
    people: list[PersonConfig] = []
    schedules: list[ScheduleConfig] = []
    channels: list[ChannelConfig] = []
    delivery: DeliveryConfig = DeliveryConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    slo: SloMonitorConfig = SloMonitorConfig()
    limits: LimitsConfig = LimitsConfig()
    heartbeats: list[HeartbeatConfig] = []
    fallback: FallbackConfig = FallbackConfig()

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str) -> str:
        return check_listen(listen)

    def reference_errors(self) -> list[tuple[PathKey, str]]:
        """Cross-references a field validator cannot see: each (config path, message)."""
        errors: list[tuple[PathKey, str]] = []
        names = [level.name for level in self.severities]
        for index, name in enumerate(names):
            if name in names[:index]:
                errors.append((("severities", index, "name"), f"duplicate severity {name!r}"))
        if self.default_severity not in names:
            errors.append(
                (("default_severity",), f"{self.default_severity!r} is not one of {names}")
            )
        route_names: set[str] = set()
        for index, route in enumerate(self.routes):
            if route.name in route_names:
                errors.append((("routes", index, "name"), f"duplicate route {route.name!r}"))
            route_names.add(route.name)
            if route.policy is not None and route.policy not in self.policies:
                errors.append(
                    (
                        ("routes", index, "policy"),
                        f"unknown policy {route.policy!r}; defined: {sorted(self.policies)}",
                    )
                )
        if self.default_policy is not None and self.default_policy not in self.policies:
            errors.append((("default_policy",), f"unknown policy {self.default_policy!r}"))
        beats = [beat.name for beat in self.heartbeats]
        for index, name in enumerate(beats):
            if name in beats[:index]:
                errors.append((("heartbeats", index, "name"), f"duplicate heartbeat {name!r}"))
        return errors + self._paging_reference_errors()

    def _paging_reference_errors(self) -> list[tuple[PathKey, str]]:
        errors: list[tuple[PathKey, str]] = []
        known = {
            "person": _unique_ids("people", [p.id for p in self.people], errors),
            "schedule": _unique_ids("schedules", [s.id for s in self.schedules], errors),
            "channel": _unique_ids("channels", [c.id for c in self.channels], errors),
        }
        announcers = {c.id for c in self.channels if c.type in ANNOUNCING_CHANNELS}
        for index, schedule in enumerate(self.schedules):
            if schedule.announce is not None and schedule.announce not in announcers:
                errors.append(
                    (
                        ("schedules", index, "announce"),
                        f"no slack, email or webhook channel {schedule.announce!r}",
                    )
                )
            for layer_index, layer in enumerate(schedule.layers):
                for person in layer.rotation:
                    if person not in known["person"]:
                        where: PathKey = ("schedules", index, "layers", layer_index, "rotation")
                        errors.append((where, f"unknown person {person!r}"))
        for name, policy in self.policies.items():
            sections: tuple[tuple[str, list[list[Target]]], ...] = (
                ("steps", [step.targets for step in policy.steps]),
                ("manual_steps", [step.targets for step in policy.manual_steps]),
            )
            for section, steps in sections:
                for step_index, targets in enumerate(steps):
                    for target in targets:
                        if target.id not in known[target.kind]:
                            where = ("policies", name, section, step_index, "targets")
                            errors.append(
                                (where, f"unknown {target.kind} {target.id!r} in {str(target)!r}")
                            )
        if self.channels:
            for index, level in enumerate(self.severities):
                for channel in level.channels:
                    if channel not in known["channel"]:
                        errors.append(
                            (("severities", index, "channels"), f"unknown channel {channel!r}")
                        )
        return errors

    def person(self, person_id: str) -> PersonConfig | None:
        return next((p for p in self.people if p.id == person_id), None)

    def schedule(self, schedule_id: str) -> ScheduleConfig | None:
        return next((s for s in self.schedules if s.id == schedule_id), None)

    def channel(self, channel_id: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def severity(self, name: str) -> SeverityLevel | None:
        return next((level for level in self.severities if level.name == name), None)

    @property
    def database_url(self) -> str:
        return self.storage.url or f"sqlite:///{self.data_dir / 'gatewatch.db'}"

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def _unique_ids(section: str, ids: list[str], errors: list[tuple[PathKey, str]]) -> set[str]:
    for index, ident in enumerate(ids):
        if ident in ids[:index]:
            errors.append(((section, index, "id"), f"duplicate id {ident!r}"))
    return set(ids)
