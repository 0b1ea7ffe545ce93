"""The SLO specs gatewatch ships (seed 000 and seed 002), as rule packs; and the specs a
server watches (the configured ones, or the shipped ones)."""

from importlib import resources

from gatewatch.config.schema import SloMonitorConfig
from gatewatch.model import RulePack
from gatewatch.slo.generate import slo_rules
from gatewatch.slo.spec import SloSpec, load_spec, parse_spec


def shipped_specs() -> list[SloSpec]:
    folder = resources.files("gatewatch.slo") / "specs"
    return [
        parse_spec(item.read_text(), f"gatewatch/slo/specs/{item.name}")
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yml")
    ]


def shipped_slo_packs() -> list[RulePack]:
    return [slo_rules(spec) for spec in shipped_specs()]


def watched_specs(config: SloMonitorConfig) -> list[SloSpec]:
    """The SLOs a server watches: the configured spec files, or the shipped ones."""
    return [load_spec(path) for path in config.specs] if config.specs else shipped_specs()
