"""The web app, served by the API process on the same origin (ARCHITECTURE.md §1).

The UI is Next.js's static export (`web/out`): plain files, no Node process at run time. Serving
it from the API's own origin keeps the refresh token in its httpOnly, SameSite=strict cookie and
needs no CORS. The files hold no data (every page fetches it from `/api/v1` with the caller's
token), so they are the one public thing besides the reviewed routes in `app.PUBLIC_ROUTES`.

`/api/...` never reaches the UI: an unknown API path still gets the JSON error envelope (and a
wrong method on a known path its 405) from the API's own routing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from agentflow.settings import Settings

CHECKOUT_WEB_DIR = Path(__file__).resolve().parents[1] / "web" / "out"

# Next's export inlines small bootstrap scripts and styles, hence 'unsafe-inline'; everything
# else comes from this origin only, and no other site may frame the app (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# Next fingerprints everything under /_next/static/, so those files never change under a name.
IMMUTABLE_PREFIX = "_next/static/"


def ui_directory(settings: Settings) -> Path | None:
    """The static export to serve, or None when there is none (an API-only deployment)."""
    directory = settings.web_dir or CHECKOUT_WEB_DIR
    return directory if (directory / "index.html").is_file() else None


class WebAppFiles(StaticFiles):
    """The export's files: `/agents/` → `agents/index.html`, unknown paths → `404.html`."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        # Every answer of the export, 404.html included (StaticFiles sends that one without
        # `file_response`), gets the headers; a 404 is never cached as an immutable asset.
        response = await super().get_response(path, scope)
        request_path: str = scope["path"]
        if response.status_code in (200, 304) and request_path.lstrip("/").startswith(IMMUTABLE_PREFIX):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            # Pages name the current bundle: always revalidate, so a release shows at once.
            response.headers["Cache-Control"] = "no-cache"
        response.headers.update(SECURITY_HEADERS)
        return response


class WebAppMount(Mount):
    """Mounted at `/` after every API route, and blind to `/api/`, `/healthz` and `/readyz`."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/api/") or path in ("/api", "/healthz", "/readyz"):
            return Match.NONE, {}
        return super().matches(scope)


def web_app_mount(directory: Path) -> WebAppMount:
    return WebAppMount("/", app=WebAppFiles(directory=directory, html=True), name="web")
