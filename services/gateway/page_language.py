"""The language of each volunteer page: what the reader picked on the page (`?lang=`), else
the person's remembered language and their organisation's (a route that knows them puts these
on `request.state.languages`), else an earlier pick (a cookie), else the browser's
Accept-Language. Dashboard pages stay English. Every page says its language: `lang` on the
HTML, and Content-Language."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.templating import _TemplateResponse

from cairn.domain import languages
from cairn.usecases.translated_templates import install_translations

LANG_COOKIE = "cairn_lang"
LANG_COOKIE_DAYS = 365


def chosen_language(request: Request) -> str | None:
    """The language picked on this page (`?lang=es`), if it is one Cairn speaks."""
    return languages.supported(request.query_params.get("lang"))


def know_person(request: Request, *candidates: str | None) -> None:
    """Tells the page whose it is: their language, then their organisation's."""
    request.state.languages = candidates


def page_language(request: Request) -> str:
    known: tuple[str | None, ...] = getattr(request.state, "languages", ())
    return languages.choose(
        chosen_language(request),
        *known,
        request.cookies.get(LANG_COOKIE),
        *languages.accepted(request.headers.get("accept-language")),
    )


class PageTemplates(Jinja2Templates):
    """Jinja2Templates whose pages speak the reader's language (see the module's docstring)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory)
        install_translations(self.env)

    def TemplateResponse(
        self, request: Request, name: str, context: dict[str, Any] | None = None, *args: Any, **kwargs: Any
    ) -> _TemplateResponse:
        dashboard = name.startswith("dashboard")
        language = languages.DEFAULT if dashboard else page_language(request)
        switch = [
            {"tag": tag, "name": label, "url": str(request.url.include_query_params(lang=tag))}
            for tag, label in languages.names(languages.shipped())
        ]
        context = {"lang": language, "language_links": switch, **(context or {})}
        response = super().TemplateResponse(request, name, context, *args, **kwargs)
        response.headers["Content-Language"] = language
        if not dashboard and (picked := chosen_language(request)):
            response.set_cookie(
                LANG_COOKIE, picked, max_age=LANG_COOKIE_DAYS * 86400, samesite="lax", httponly=True
            )
        return response
