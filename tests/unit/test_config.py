from pathlib import Path

import pytest

from gatewatch.auth.roles import Role
from gatewatch.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "gatewatch.example.yml"


def _issues(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "gw.yml", environ or {})
    return [str(issue) for issue in caught.value.issues]


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE, {"GATEWATCH_INGEST_TOKEN": "x" * 20})
    assert config.routes
    assert {token.role for token in config.auth.tokens} >= {Role.INGEST, Role.ADMIN}


def test_no_file_gives_the_builtin_default() -> None:
    config = load_config(None, {})
    assert config.listen.startswith("127.0.0.1:")
    assert config.database_url.startswith("sqlite:///")
    assert [level.name for level in config.severities] == [
        "critical",
        "P1",
        "P2",
        "warning",
        "info",
    ]


def test_errors_name_file_line_and_key() -> None:
    text = """listen: 127.0.0.1:8787
routes:
  - name: gateway
    matchers: ['severity=~"("']
  - name: gateway
    policy: nobody
auth:
  tokens:
    - name: am
      role: boss
      token: short
"""
    issues = _issues(text)
    assert issues[0].startswith("gw.yml:4: routes[0].matchers: invalid regular expression '('")
    assert issues[1].startswith("gw.yml:10: auth.tokens[0].role: Input should be")
    assert issues[2].startswith("gw.yml:11: auth.tokens[0].token: String should have at least 16")
    assert len(issues) == 3


def test_cross_references_are_checked_with_lines() -> None:
    text = """routes:
  - name: gateway
  - name: gateway
    policy: nobody
"""
    assert _issues(text) == [
        "gw.yml:3: routes[1].name: duplicate route 'gateway'",
        "gw.yml:4: routes[1].policy: unknown policy 'nobody'; defined: []",
    ]


def test_environment_variables_expand_with_defaults() -> None:
    text = """external_url: http://${HOST}:${PORT:-8787}
auth:
  tokens:
    - {name: am, role: ingest, token: "${AM_TOKEN}"}
"""
    config = parse_config(text, "gw.yml", {"HOST": "gw.example", "AM_TOKEN": "t" * 16})
    assert config.external_url == "http://gw.example:8787"
    assert config.auth.tokens[0].token == "t" * 16


def test_missing_environment_variable_is_reported_where_used() -> None:
    issues = _issues("storage:\n  url: ${DATABASE_URL}\n")
    assert issues == [
        "gw.yml:2: storage.url: environment variable DATABASE_URL is not set "
        "(use ${NAME:-default} for a default)"
    ]


def test_duplicate_keys_and_unknown_keys_are_errors() -> None:
    issues = _issues("listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\nlisten_port: 3\n")
    assert "gw.yml:2: listen: duplicate key" in issues
    assert any(
        i.startswith("gw.yml:3: listen_port: Extra inputs are not permitted") for i in issues
    )


def test_invalid_yaml_names_the_line() -> None:
    assert _issues("routes:\n  - name: [unclosed\n")[0].startswith("gw.yml:3: invalid YAML")


def test_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yml", {})


def test_manual_steps_and_monthly_shifts_are_checked_with_lines() -> None:
    shift = """people: [{id: alice}]
schedules:
  - id: monthly
    layers: [{rotation: [alice], shift: 0mo, handoff: "2026-01-31T09:00:00"}]
"""
    assert _issues(shift) == [
        "gw.yml:4: schedules[0].layers[0].shift: a shift of months must be 1mo to 120mo"
    ]
    manual = """policies:
  remind-p2:
    manual_steps:
      - targets: ["schedule:im-secondary"]
"""
    assert _issues(manual) == [
        "gw.yml:4: policies.remind-p2.manual_steps[0].targets: unknown schedule "
        "'im-secondary' in 'schedule:im-secondary'"
    ]


def test_a_redis_url_must_be_one_redis_understands() -> None:
    [issue] = _issues("redis:\n  url: http://cache:6379\n")
    assert issue.startswith("gw.yml:2: redis.url: expected a redis://, rediss:// or unix:// URL")
    assert parse_config("redis:\n  url: redis://cache:6379/0\n", "gw.yml", {}).redis
