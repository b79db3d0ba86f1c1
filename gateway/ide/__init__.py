"""GraphiQL served from this machine: the page, its own start script and the npm packages that
`make assets` installs under `gateway/ide/node_modules` (graphiql, react, react-dom; versions in
`gateway/ide/package-lock.json`). Nothing is loaded from a CDN, so GraphiQL works offline, and
the page carries no inline script, so it runs under the strict Content-Security-Policy it sends.

Strawberry's own page loads React and GraphiQL from unpkg.com (offline it shows "Loading..."):
`GraphQLWithIDE` replaces that page; `ide_router` serves the few files it names, from a fixed
list — never a path taken from the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from strawberry.fastapi import GraphQLRouter

from kit.errors import NotFound

HERE = Path(__file__).resolve().parent
PACKAGES = HERE / "node_modules"
ASSETS_PATH = "/ide"

# Everything the page loads: public name → file. Scripts in the order the page runs them.
SCRIPTS = {
    "react.production.min.js": PACKAGES / "react" / "umd" / "react.production.min.js",
    "react-dom.production.min.js": PACKAGES / "react-dom" / "umd" / "react-dom.production.min.js",
    "graphiql.min.js": PACKAGES / "graphiql" / "graphiql.min.js",
    "graphiql-init.js": HERE / "graphiql-init.js",
}
STYLES = {
    "graphiql.min.css": PACKAGES / "graphiql" / "graphiql.min.css",
    "graphiql-page.css": HERE / "graphiql-page.css",
}
ASSETS = {**SCRIPTS, **STYLES}

# Scripts and styles from this origin only, no eval, no inline script; the editor calls back
# to this origin (HTTP and the WebSocket of subscriptions). GraphiQL sets element styles from
# script (allowed) and CodeMirror inserts <style> elements, hence 'unsafe-inline' for styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff"}

MISSING = """<!doctype html><html><head><title>GraphiQL not installed</title></head><body>
<p>GraphiQL's files are not installed on this machine: run <code>make assets</code>
(part of <code>make install</code>). The GraphQL API at this address works without them.</p>
</body></html>"""


def assets_installed() -> bool:
    """True when every file the page loads is on disk (`make assets` has run)."""
    return all(path.is_file() for path in ASSETS.values())


def graphiql_html(root_path: str = "") -> str:
    """The GraphiQL page: links to this origin's files under `root_path` + /ide, no inline
    script. Without the npm packages, a page that says how to install them."""
    if not assets_installed():
        return MISSING
    base = f"{root_path}{ASSETS_PATH}"
    styles = "\n".join(f'<link rel="stylesheet" href="{base}/{name}">' for name in STYLES)
    scripts = "\n".join(f'<script src="{base}/{name}" defer></script>' for name in SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Werkvloer GraphiQL</title>
<link rel="icon" href="data:,">
{styles}
{scripts}
</head>
<body>
<div id="graphiql">Loading…</div>
</body>
</html>
"""


class GraphQLWithIDE(GraphQLRouter[Any, None]):
    """Strawberry's FastAPI router with GraphiQL served from this machine instead of a CDN."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """The page of `graphiql_html`, with its Content-Security-Policy."""
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(graphiql_html(root_path), headers=HEADERS)


ide_router = APIRouter(include_in_schema=False)


@ide_router.get(ASSETS_PATH + "/{name}")
async def ide_asset(name: str) -> FileResponse:
    """One file of the GraphiQL page, by its public name; 404 `not_found` for any other name
    or when `make assets` has not run."""
    path = ASSETS.get(name)
    if path is None or not path.is_file():
        raise NotFound("no such GraphiQL file")
    return FileResponse(path, headers={**HEADERS, "Cache-Control": "public, max-age=3600"})
