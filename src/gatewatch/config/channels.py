"""Notification channels and delivery settings as written in gatewatch.yml."""

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from gatewatch.config.base import ConfigModel
from gatewatch.durations import Duration


class Templates(ConfigModel):
    """Jinja2 overrides of the message title and text, rendered in a sandbox."""

    title: str | None = None
    text: str | None = None


class _Channel(ConfigModel):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    rate_per_second: float = Field(default=1.0, gt=0, description="Sustained send rate")
    burst: int = Field(default=5, ge=1)
    templates: Templates = Templates()


class SlackChannel(_Channel):
    type: Literal["slack"]
    webhook_url: str = Field(pattern=r"^https?://")
    signing_secret: str | None = Field(default=None, min_length=8, repr=False)


class PagerDutyChannel(_Channel):
    type: Literal["pagerduty"]
    routing_key: str = Field(min_length=32, max_length=32, repr=False)
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://")
    rate_per_second: float = Field(default=2.0, gt=0)
    burst: int = Field(default=20, ge=1)


class EmailChannel(_Channel):
    type: Literal["email"]
    host: str
    port: int = Field(default=25, gt=0, lt=65536)
    starttls: bool = False
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[str] = Field(default=[], description="Recipients of messages addressed to no one")
    rate_per_second: float = Field(default=5.0, gt=0)
    burst: int = Field(default=20, ge=1)


class WebhookChannel(_Channel):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=8, repr=False)
    rate_per_second: float = Field(default=10.0, gt=0)
    burst: int = Field(default=20, ge=1)


class ActionChannel(_Channel):
    """An automated response: alerts labelled `action=<id>` POST `trigger` when their
    incident opens and `resolve` when it resolves (e.g. the gateway's circuit breaker)."""

    type: Literal["action"]
    url: str = Field(pattern=r"^https?://")
    trigger: dict[str, object]
    resolve: dict[str, object]
    rate_per_second: float = Field(default=10.0, gt=0)


ChannelConfig = Annotated[
    SlackChannel | PagerDutyChannel | EmailChannel | WebhookChannel | ActionChannel,
    Field(discriminator="type"),
]


class DeliveryConfig(ConfigModel):
    max_attempts: int = Field(default=10, ge=1, le=100)
    backoff_initial: Duration = timedelta(seconds=1)
    backoff_max: Duration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=10)
    poll_interval: Duration = timedelta(milliseconds=200)
    in_flight_per_channel: int = Field(
        default=32,
        ge=1,
        le=256,
        description="Sends under way at once to one channel (its throttle still applies)",
    )
    batch_size: int = Field(
        default=200, ge=1, le=10_000, description="Most notifications one pass claims"
    )
