"""gatewatch.yml: the schema (each stage's section in a module of its own) and the loader."""

from gatewatch.config.loader import (
    ConfigError,
    ConfigIssue,
    load_config,
    parse_config,
    parse_yaml_model,
)
from gatewatch.config.schema import DEFAULT_LISTEN, GatewatchConfig, check_listen

__all__ = [
    "DEFAULT_LISTEN",
    "ConfigError",
    "ConfigIssue",
    "GatewatchConfig",
    "check_listen",
    "load_config",
    "parse_config",
    "parse_yaml_model",
]
