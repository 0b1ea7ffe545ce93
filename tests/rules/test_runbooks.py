"""Every alert links to a runbook that exists, names the alert, and says what to do."""

import re
from pathlib import Path

from gatewatch.rules.runbook_index import linked_slugs, runbook_index

RUNBOOKS = Path(__file__).parents[2] / "runbooks"
PROCEDURES = [  # seed 004's operational procedures
    "gateway-node-failure",
    "database-outage",
    "kafka-outage",
    "scale-up",
    "scale-down",
    "investigate-delivery-issues",
]


def test_every_runbook_url_has_a_runbook_naming_its_alerts() -> None:
    missing = []
    for slug, alerts in linked_slugs().items():
        path = RUNBOOKS / f"{slug}.md"
        if not path.exists():
            missing.append(slug)
            continue
        text = path.read_text()
        assert text.startswith("# "), f"{path}: starts with a '# Title' line"
        for alert in alerts:
            name = alert.split(" (")[0]
            assert f"`{name}`" in text, f"{path} never names {name}"
    assert not missing, f"alerts link to runbooks that do not exist: {missing}"


def test_seed_procedures_are_runbooks_with_steps() -> None:
    for slug in PROCEDURES:
        text = (RUNBOOKS / f"{slug}.md").read_text()
        assert "kubectl" in text and "## Verify" in text, slug


def test_links_between_runbooks_resolve() -> None:
    for path in RUNBOOKS.glob("*.md"):
        for target in re.findall(r"\]\(([a-z0-9-]+)\)", path.read_text()):
            assert (RUNBOOKS / f"{target}.md").exists(), f"{path.name} links to {target}"


def test_index_is_current() -> None:
    index = (RUNBOOKS / "index.md").read_text()
    assert index == runbook_index(RUNBOOKS), "regenerate: gatewatch rules runbooks"
    assert "(missing)" not in index
