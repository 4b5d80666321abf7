"""The web pages (plain static files from web/) and the security headers every response carries."""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB = Path(__file__).resolve().parent.parent / "web"
PAGES = ("kiosk", "display", "counter", "tablet", "dashboard", "admin", "reports", "book")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob: data:; font-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _page(name: str) -> Route:
    async def serve(request: Request) -> Response:
        path = WEB / name / "index.html"
        if not path.is_file():
            return HTMLResponse(f"<h1>{name}</h1><p>This page is not built yet.</p>", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "no-cache"})
    return Route(f"/{name}", serve, name=f"page-{name}")


async def index(request: Request) -> Response:
    path = WEB / "index.html"
    if path.is_file():
        return FileResponse(path, headers={"Cache-Control": "no-cache"})
    links = "".join(f'<li><a href="/{p}">{p}</a></li>' for p in PAGES)
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>QMS</title><ul>{links}</ul>")


async def favicon(request: Request) -> Response:
    """The office emblem (a gold star on red), so no page logs a 404 for /favicon.ico."""
    name = request.url.path.lstrip("/")
    media = "image/svg+xml" if name.endswith(".svg") else "image/x-icon"
    return FileResponse(WEB / name, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


async def track_page(request: Request) -> Response:
    path = WEB / "track" / "index.html"
    if not path.is_file():
        return HTMLResponse("<h1>track</h1>", status_code=404)
    return FileResponse(path, headers={"Cache-Control": "no-cache"})


def font_dir() -> Path | None:
    """Be Vietnam Pro as the PyPI package ships it (served, not copied into the project)."""
    try:
        import fontpkg_be_vietnam_pro
    except ImportError:
        return None
    files = Path(fontpkg_be_vietnam_pro.__file__).resolve().parent / "files"
    return files if files.is_dir() else None


def page_routes() -> list[Route | Mount]:
    WEB.mkdir(exist_ok=True)
    routes: list[Route | Mount] = [Route("/", index), *[_page(p) for p in PAGES], Route("/t/{track_code}", track_page),
                                     Route("/favicon.ico", favicon), Route("/favicon.svg", favicon)]
    fonts = font_dir()
    if fonts is not None:
        routes.append(Mount("/fonts", StaticFiles(directory=str(fonts)), name="fonts"))
    return routes + [Mount("/static", StaticFiles(directory=str(WEB)), name="static")]


class SecurityHeaders:
    """Strict CSP and friends on every HTTP response (pages load nothing from outside the office LAN)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
            await send(message)
        await self.app(scope, receive, wrapped)
