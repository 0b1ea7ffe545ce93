"""A responder's night in a real browser (Debian's Chromium, driven by Playwright): sign in,
watch the header turn red when a critical alert arrives, acknowledge, silence the alert in
the real Alertmanager, read the runbook, write the review. Any console error fails the test;
every page is kept as a screenshot in test-artifacts/."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from gatewatch.auth.passwords import hash_password
from gatewatch.rules.testing import build_packs
from tests.support.auth import TOKENS
from tests.support.payloads import LOSS_LABELS, webhook, webhook_alert
from tests.support.processes import AlertmanagerProcess, GatewatchProcess, PrometheusProcess

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [  # this machine has no network beyond loopback: keep Chromium off it
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
RUNBOOKS = Path(__file__).parents[2] / "runbooks"
PASSWORD = "night-shift-password"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[GatewatchProcess, AlertmanagerProcess]]:
    for folder in ("am", "gw", "prom"):
        (tmp_path / folder).mkdir()
    rules = build_packs(tmp_path / "rules", None, "http://gatewatch.test")
    prometheus = PrometheusProcess(tmp_path / "prom", {}, rules).start()
    alertmanager = AlertmanagerProcess(
        tmp_path / "am",
        {"route": {"receiver": "null"}, "receivers": [{"name": "null"}]},
    ).start()
    server = GatewatchProcess(
        tmp_path / "gw",
        {
            "storage": {"url": f"sqlite:///{tmp_path}/gatewatch.db"},
            "data_dir": str(tmp_path / "data"),
            "runbooks_dir": str(RUNBOOKS),
            "alertmanager": {"url": alertmanager.url},
            "prometheus": {"url": prometheus.url},
            "auth": {
                "tokens": [{"name": "alertmanager", "role": "ingest", "token": TOKENS["ingest"]}],
                "users": [
                    {"name": "rita", "role": "responder", "password_hash": hash_password(PASSWORD)}
                ],
            },
            "people": [{"id": "rita", "name": "Rita", "email": "rita@im.example"}],
            "schedules": [
                {
                    "id": "im-primary",
                    "layers": [
                        {"rotation": ["rita"], "shift": "1w", "handoff": "2026-01-05T09:00:00"}
                    ],
                }
            ],
            "policies": {
                "page-now": {"steps": [{"after": "0s", "targets": ["schedule:im-primary"]}]}
            },
            "routes": [
                {"name": "critical", "matchers": ['severity="critical"'], "policy": "page-now"}
            ],
        },
    ).start()
    yield server, alertmanager
    server.stop()
    alertmanager.stop()
    prometheus.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone at 3 a.m.
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _ingest(server: GatewatchProcess) -> None:
    alert = webhook_alert(
        LOSS_LABELS,
        annotations={
            "summary": "Message loss above 0.01 %",
            "runbook_url": f"{server.url}/runbooks/message-loss",
        },
    )
    httpx.post(
        f"{server.url}/api/v1/webhooks/alertmanager",
        headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
        json=webhook([alert], group_key="loss"),
    ).raise_for_status()


def test_page_to_acknowledged_to_silenced_to_review(
    stack: tuple[GatewatchProcess, AlertmanagerProcess], page: Page
) -> None:
    server, alertmanager = stack
    page.goto(f"{server.url}/ui/incidents")
    expect(page).to_have_url(re.compile(r"/ui/login\?next=/ui/incidents$"))
    _shot(page, "01-sign-in")
    page.fill("#user", "rita")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    status = page.locator("#status")
    expect(status).to_have_text(re.compile("all clear"))
    page.goto(f"{server.url}/ui/")
    _shot(page, "02-all-clear")

    _ingest(server)  # no reload: the live update turns the header red
    expect(page.locator("#status")).to_have_class(re.compile("firing"), timeout=15_000)
    expect(page.locator("#status")).to_contain_text("1 critical")
    expect(page.locator("[data-live]")).to_contain_text("HighMessageLossRate")
    _shot(page, "03-alert-firing")

    page.click("nav >> text=Incidents")
    page.click("main >> text=Message loss above 0.01 %")
    expect(page.locator("#incident-status")).to_have_text("triggered")
    _shot(page, "04-incident")
    page.click("button:has-text('Acknowledge')")
    expect(page.locator("#incident-status")).to_have_text("acknowledged")
    expect(page.locator("#timeline")).to_contain_text("rita")
    expect(page.locator(".flash")).to_contain_text("escalation stopped")
    _shot(page, "05-acknowledged")

    page.click("text=Silence this alert")
    expect(page.locator("textarea[name=matchers]")).to_contain_text("alertname=HighMessageLossRate")
    page.select_option("#duration", "2h")
    page.fill("#comment", "breaker open, MySQL disk being grown")
    page.click("button:has-text('Create silence')")
    expect(page.locator(".flash")).to_contain_text("created in Alertmanager")
    _shot(page, "06-silences")
    silences = httpx.get(f"{alertmanager.url}/api/v2/silences").json()
    active = [s for s in silences if s["status"]["state"] == "active"]
    assert len(active) == 1 and active[0]["createdBy"] == "rita"
    assert {
        "name": "alertname",
        "value": "HighMessageLossRate",
        "isRegex": False,
        "isEqual": True,
    } in active[0]["matchers"]

    page.goto(f"{server.url}/ui/incidents/1")
    page.click("text=Runbook: message-loss")
    expect(page.locator("h1")).to_have_text("Message loss")
    _shot(page, "07-runbook")

    page.goto(f"{server.url}/ui/incidents/1")
    page.click("text=Resolve")
    expect(page.locator("#incident-status")).to_have_text("resolved")
    page.click("text=Post-incident review")
    page.fill("#summary", "2 % of messages were lost for 12 minutes")
    page.fill("#root_cause", "MySQL disk full")
    page.click("button:has-text('Save review')")
    expect(page.locator(".flash")).to_contain_text("Review saved")
    page.fill("#item-text", "Alert on MySQL disk at 80 %")
    page.fill("#item-owner", "bob")
    page.fill("#item-due", "2026-12-01")
    page.click("button:has-text('Add action item')")
    document = page.locator("#review-document")
    expect(document).to_contain_text("2 % of messages were lost for 12 minutes")
    expect(document).to_contain_text("Alert on MySQL disk at 80 %")
    expect(document).to_contain_text("Acknowledged")
    _shot(page, "08-review")

    for path, name in (
        ("/ui/oncall", "09-oncall"),
        ("/ui/notifications", "10-notifications"),
        ("/ui/slos", "11-slos"),
        ("/ui/silences", "12-silences"),
    ):
        page.goto(f"{server.url}{path}")
        expect(page.locator(".flash.error")).to_have_count(0)
        _shot(page, name)
    expect(page.locator("main")).to_contain_text("breaker open, MySQL disk being grown")
    page.click("button:has-text('Expire')")
    expect(page.locator(".flash")).to_contain_text("expired")
    states = [s["status"]["state"] for s in httpx.get(f"{alertmanager.url}/api/v2/silences").json()]
    assert states == ["expired"]

    page.emulate_media(color_scheme="dark")
    page.goto(f"{server.url}/ui/incidents/1")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 20, 24)"
    _shot(page, "13-incident-dark")
