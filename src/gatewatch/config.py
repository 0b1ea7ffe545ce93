"""The gatewatch.yml model: read once, validated once, errors that name file, line and key."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator

from gatewatch.config_base import ConfigModel
from gatewatch.durations import Duration
from gatewatch.errors import GatewatchError, format_location, validation_messages
from gatewatch.escalation.config import PolicyConfig, SchedulerConfig
from gatewatch.matchers import Matcher, MatcherSyntaxError, parse_matcher
from gatewatch.notify.config import ChannelConfig, DeliveryConfig
from gatewatch.oncall.config import PersonConfig, ScheduleConfig
from gatewatch.passwords import is_password_hash

DEFAULT_LISTEN = "127.0.0.1:8787"
PathKey = tuple[str | int, ...]


class Role(StrEnum):
    INGEST = "ingest"
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"


class Permission(StrEnum):
    INGEST = "ingest"
    READ = "read"
    RESPOND = "respond"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.INGEST: frozenset({Permission.INGEST}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.RESPONDER: frozenset({Permission.READ, Permission.RESPOND}),
    Role.ADMIN: frozenset(Permission),
}


def check_listen(listen: str) -> str:
    """`host:port` with a port in range; raises ValueError otherwise."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {listen!r}")
    return listen


class TokenConfig(ConfigModel):
    name: str = Field(min_length=1, description="Shown in timelines as the actor")
    role: Role
    token: str = Field(min_length=16, repr=False)


class UserConfig(ConfigModel):
    """A person who signs in to the web UI with a password (only its hash is stored)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    password_hash: str = Field(repr=False, description="from `gatewatch hash-password`")

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, value: str) -> str:
        if not is_password_hash(value):
            raise ValueError("not a password hash; create one with `gatewatch hash-password`")
        return value


class AuthConfig(ConfigModel):
    tokens: list[TokenConfig] = []
    users: list[UserConfig] = []
    session_secret: str | None = Field(
        default=None,
        min_length=32,
        repr=False,
        description="signs session cookies; default: a key kept in data_dir/session.key",
    )
    session_lifetime: Duration = timedelta(hours=12)
    cookie_secure: bool = Field(
        default=False, description="send the session cookie over HTTPS only (set behind TLS)"
    )

    @field_validator("tokens")
    @classmethod
    def _unique(cls, tokens: list[TokenConfig]) -> list[TokenConfig]:
        seen: set[str] = set()
        for token in tokens:
            if token.token in seen:
                raise ValueError(f"token of {token.name!r} is used by another entry")
            seen.add(token.token)
        return tokens


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


class RouteConfig(ConfigModel):
    name: str = Field(min_length=1)
    matchers: list[str] = []
    group_by: list[str] | None = None
    continue_: bool = Field(default=False, alias="continue")
    policy: str | None = None
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
        return errors + self._paging_reference_errors()

    def _paging_reference_errors(self) -> list[tuple[PathKey, str]]:
        errors: list[tuple[PathKey, str]] = []
        known = {
            "person": _unique_ids("people", [p.id for p in self.people], errors),
            "schedule": _unique_ids("schedules", [s.id for s in self.schedules], errors),
            "channel": _unique_ids("channels", [c.id for c in self.channels], errors),
        }
        for index, schedule in enumerate(self.schedules):
            for layer_index, layer in enumerate(schedule.layers):
                for person in layer.rotation:
                    if person not in known["person"]:
                        where: PathKey = ("schedules", index, "layers", layer_index, "rotation")
                        errors.append((where, f"unknown person {person!r}"))
        for name, policy in self.policies.items():
            for step_index, step in enumerate(policy.steps):
                for target in step.targets:
                    kind, _, ident = target.partition(":")
                    if ident not in known[kind]:
                        where = ("policies", name, "steps", step_index, "targets")
                        errors.append((where, f"unknown {kind} {ident!r} in {target!r}"))
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


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(GatewatchError):
    """Every problem found in a config file, each with file, line and key."""

    hint = "fix the lines named above, then run `gatewatch config check FILE`"

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


_ENV_RE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _config_path(path: PathKey) -> str:
    return format_location(path) if path else ""


def _index_lines(
    node: yaml.Node, path: PathKey, lines: dict[PathKey, int], issues: list[str]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                issues.append(f"{key_node.start_mark.line + 1}\0{_config_path((*path, key))}")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*path, key), lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines, issues)


def _expand_env(
    value: Any, path: PathKey, environ: Mapping[str, str], missing: list[PathKey]
) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, (*path, k), environ, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*path, i), environ, missing) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append((*path, f"${{{name}}}"))
        return ""

    return _ENV_RE.sub(substitute, value)


def _line_for(loc: PathKey, lines: dict[PathKey, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def read_yaml(text: str, filename: str) -> tuple[Any, dict[PathKey, int], list[ConfigIssue]]:
    """Parse YAML keeping each key's line; duplicate keys come back as issues."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(filename, line, "", f"invalid YAML: {problem}")]) from exc
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(filename, 1, "", "expected a mapping at the top level")])
    lines: dict[PathKey, int] = {}
    duplicates: list[str] = []
    if node is not None:
        _index_lines(node, (), lines, duplicates)
    issues = [
        ConfigIssue(filename, int(line), path, "duplicate key")
        for line, path in (entry.split("\0") for entry in duplicates)
    ]
    return data, lines, issues


def validation_issues(
    exc: ValidationError, filename: str, lines: dict[PathKey, int]
) -> list[ConfigIssue]:
    return [
        ConfigIssue(filename, _line_for(tuple(error["loc"]), lines), path, message)
        for error, (path, message) in zip(
            exc.errors(), validation_messages(exc.errors()), strict=True
        )
    ]


def parse_config(text: str, filename: str, environ: Mapping[str, str]) -> GatewatchConfig:
    """Validate config text; raise ConfigError listing every problem with its line."""
    data, lines, issues = read_yaml(text, filename)
    missing: list[PathKey] = []
    data = _expand_env(data, (), environ, missing)
    for loc in missing:
        issues.append(
            ConfigIssue(
                filename,
                _line_for(loc[:-1], lines),
                _config_path(loc[:-1]),
                f"environment variable {str(loc[-1])[2:-1]} is not set "
                "(use ${NAME:-default} for a default)",
            )
        )
    try:
        config = GatewatchConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_by_line(issues + validation_issues(exc, filename, lines))) from exc
    issues.extend(
        ConfigIssue(filename, _line_for(loc, lines), _config_path(loc), message)
        for loc, message in config.reference_errors()
    )
    if issues:
        raise ConfigError(_by_line(issues))
    return config


def _by_line(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda issue: issue.line or 0)


def load_config(path: Path | None, environ: Mapping[str, str]) -> GatewatchConfig:
    """Read a config file, or return the built-in default when no file is given."""
    if path is None:
        return GatewatchConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), None, "", f"cannot read: {exc.strerror}")]
        ) from exc
    return parse_config(text, str(path), environ)
