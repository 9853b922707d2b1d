"""`tiergate serve`: the HTTP API many teams share (Starlette, served by uvicorn; the `server` extra).

Each handler reads its request, calls one operation of the application layer (tiergate.app) and writes its result
with the same JSON renderers as the command line; a refusal is a problem+json answer (RFC 9457) with the code and
message the command line prints. The person a request comes from is the one its bearer token was issued to
(app/tokens.py), never a name the request states. Nothing here decides anything.
"""
from __future__ import annotations

from tiergate.server.settings import Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings):
    """The ASGI application for `settings`."""
    from tiergate.server.routes import application

    return application(settings)
