"""What the web layer is handed by the process that runs it, and one typed dependency per
domain, so a handler names the service it uses and nothing else."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gatewatch.config import GatewatchConfig
from gatewatch.escalation.service import Escalation
from gatewatch.handoffs.service import HandoffAnnouncer
from gatewatch.heartbeats.service import Heartbeats
from gatewatch.incidents.service import Incidents
from gatewatch.notify.notifications import Notifications
from gatewatch.oncall.service import OnCall
from gatewatch.postmortem.service import Reviews
from gatewatch.runtime import Runtime
from gatewatch.signin.service import SignIn
from gatewatch.slo.spec import SloSpec


@dataclass(frozen=True)
class Services:
    config: GatewatchConfig
    runtime: Runtime
    incidents: Incidents
    escalation: Escalation
    heartbeats: Heartbeats
    handoffs: HandoffAnnouncer
    oncall: OnCall
    notifications: Notifications
    reviews: Reviews
    signin: SignIn
    slo_specs: list[SloSpec]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _config(request: Request) -> GatewatchConfig:
    return services_of(request).config


def _runtime(request: Request) -> Runtime:
    return services_of(request).runtime


def _incidents(request: Request) -> Incidents:
    return services_of(request).incidents


def _escalation(request: Request) -> Escalation:
    return services_of(request).escalation


def _oncall(request: Request) -> OnCall:
    return services_of(request).oncall


def _notifications(request: Request) -> Notifications:
    return services_of(request).notifications


def _reviews(request: Request) -> Reviews:
    return services_of(request).reviews


def _signin(request: Request) -> SignIn:
    return services_of(request).signin


ConfigDep = Annotated[GatewatchConfig, Depends(_config)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
IncidentsDep = Annotated[Incidents, Depends(_incidents)]
EscalationDep = Annotated[Escalation, Depends(_escalation)]
OnCallDep = Annotated[OnCall, Depends(_oncall)]
NotificationsDep = Annotated[Notifications, Depends(_notifications)]
ReviewsDep = Annotated[Reviews, Depends(_reviews)]
SignInDep = Annotated[SignIn, Depends(_signin)]
