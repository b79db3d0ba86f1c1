"""The services' `/docs` page (Swagger UI) served from the installed Python package
`swagger-ui-bundle-v2` (module `swagger_ui_bundle`), not from a CDN: it works offline.

FastAPI's own `/docs` loads Swagger UI from cdn.jsdelivr.net; `install_docs` is used instead of
`docs_url` and only outside production (production publishes no docs page).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Add `GET /docs` (Swagger UI for the app's OpenAPI document) and `/docs/assets/*` (the
    files of Swagger UI 5, from `swagger_ui_bundle.swagger_ui_path`) to `app`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
        )
