"""The web console: static pages at `/client/` that speak only the public API at `/client/api`.

The pages log in with `login` (a session key in the page, the session cookie kept by the
browser, HttpOnly) and sign every later call with the session key, as CloudStack's own UI does.
Nothing here reads the database: what the console shows is what the API lets its user see.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

ASSETS = Path(__file__).parent / "static"

# Scripts, styles and images come from the console's own files only; the API is same-origin.
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


class ConsoleFiles(StaticFiles):
    """The console's files, each answered with the headers above (revalidated on every load,
    so an upgraded server never runs against a page cached from the release before)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (name.encode(), value.encode()) for name, value in HEADERS.items()
                ]
            await send(message)

        await super().__call__(scope, receive, with_headers)


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/client/", status_code=302)


def console_routes() -> list[BaseRoute]:
    """`/client` redirects to `/client/`, which serves the console; listed after the API's
    own routes, so `/client/api` stays the API."""
    return [
        Route("/client", _to_console, methods=["GET"]),
        Mount("/client", app=ConsoleFiles(directory=ASSETS, html=True), name="console"),
    ]
