"""Reading gatewatch.yml (and other YAML the user writes): environment expansion, validation,
and errors that name the file, the line and the key."""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gatewatch.config.schema import GatewatchConfig, PathKey
from gatewatch.errors import GatewatchError, format_location, validation_messages

Model = TypeVar("Model", bound=BaseModel)


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


def _read_yaml(text: str, filename: str) -> tuple[Any, dict[PathKey, int], list[ConfigIssue]]:
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


def _validation_issues(
    exc: ValidationError, filename: str, lines: dict[PathKey, int]
) -> list[ConfigIssue]:
    return [
        ConfigIssue(filename, _line_for(tuple(error["loc"]), lines), path, message)
        for error, (path, message) in zip(
            exc.errors(), validation_messages(exc.errors()), strict=True
        )
    ]


def parse_yaml_model(
    text: str,
    filename: str,
    model: type[Model],
    checks: Sequence[Callable[[Model], list[tuple[PathKey, str]]]] = (),
) -> Model:
    """Validate a YAML document against `model` and `checks`; ConfigError names each
    problem's line."""
    data, lines, issues = _read_yaml(text, filename)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_by_line(issues + _validation_issues(exc, filename, lines))) from exc
    issues += _check_issues(parsed, checks, filename, lines)
    if issues:
        raise ConfigError(_by_line(issues))
    return parsed


def _check_issues(
    parsed: Model,
    checks: Sequence[Callable[[Model], list[tuple[PathKey, str]]]],
    filename: str,
    lines: dict[PathKey, int],
) -> list[ConfigIssue]:
    """What checks beyond the model's own found, each at its line."""
    return [
        ConfigIssue(filename, _line_for(loc, lines), _config_path(loc), message)
        for check in checks
        for loc, message in check(parsed)
    ]


# A check the config package cannot make itself (it knows no rule packs): (path, message)s.
ConfigCheck = Callable[[GatewatchConfig], list[tuple[PathKey, str]]]


def parse_config(
    text: str, filename: str, environ: Mapping[str, str], checks: Sequence[ConfigCheck] = ()
) -> GatewatchConfig:
    """Validate config text; raise ConfigError listing every problem with its line."""
    data, lines, issues = _read_yaml(text, filename)
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
        raise ConfigError(_by_line(issues + _validation_issues(exc, filename, lines))) from exc
    issues += _check_issues(config, (GatewatchConfig.reference_errors, *checks), filename, lines)
    if issues:
        raise ConfigError(_by_line(issues))
    return config


def _by_line(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda issue: issue.line or 0)


def load_config(
    path: Path | None, environ: Mapping[str, str], checks: Sequence[ConfigCheck] = ()
) -> GatewatchConfig:
    """Read a config file, or return the built-in default when no file is given."""
    if path is None:
        return GatewatchConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), None, "", f"cannot read: {exc.strerror}")]
        ) from exc
    return parse_config(text, str(path), environ, checks)
