"""The SLO specs gatewatch ships (seed 000 and seed 002), as rule packs."""

from importlib import resources

from gatewatch.rules.packs import RulePack
from gatewatch.slo.generate import slo_rules
from gatewatch.slo.spec import SloSpec, parse_spec


def shipped_specs() -> list[SloSpec]:
    folder = resources.files("gatewatch.slo") / "specs"
    return [
        parse_spec(item.read_text(), f"gatewatch/slo/specs/{item.name}")
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yml")
    ]


def shipped_slo_packs() -> list[RulePack]:
    return [slo_rules(spec) for spec in shipped_specs()]
