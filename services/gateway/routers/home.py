"""The front door: a landing page, and the API documentation served from the gateway itself.

Swagger UI's files come from the fastapi-offline package (its static folder), not a CDN, so
/docs works on a network that reaches nothing else and leaks no visits to third parties.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from services.gateway.dependencies import templates

router = APIRouter(include_in_schema=False)
DOCS_ASSETS = "/docs/assets"
SWAGGER_UI = Path(str(files("fastapi_offline") / "static"))


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "landing.html")


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} · API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},  # else Swagger UI asks validator.swagger.io
    )


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")
