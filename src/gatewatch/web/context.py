"""What every handler reaches through the request: the engine the app was built around."""

from fastapi import Request

from gatewatch.service import IncidentEngine


def engine_of(request: Request) -> IncidentEngine:
    engine: IncidentEngine = request.app.state.engine
    return engine
