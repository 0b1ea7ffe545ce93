"""The SLO specs gatewatch ships (seed 000 and seed 002), as rule packs; and the specs a
server watches (the configured ones, or the shipped ones)."""

from importlib import resources
from pathlib import Path

from gatewatch.config.schema import SloMonitorConfig
from gatewatch.model import RulePack
from gatewatch.slo.generate import slo_packs
from gatewatch.slo.spec import SloSpec, load_specs, parse_specs


def shipped_specs() -> list[SloSpec]:
    folder = resources.files("gatewatch.slo") / "specs"
    return [
        spec
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yml")
        for spec in parse_specs(item.read_text(), f"gatewatch/slo/specs/{item.name}")
    ]


def shipped_slo_packs() -> list[RulePack]:
    return slo_packs(shipped_specs())


def specs_from(paths: list[Path]) -> list[SloSpec]:
    """Every spec of every file, in order."""
    return [spec for path in paths for spec in load_specs(path)]


def watched_specs(config: SloMonitorConfig) -> list[SloSpec]:
    """The SLOs a server watches: the configured spec files, or the shipped ones."""
    return specs_from(list(config.specs)) if config.specs else shipped_specs()
