"""Documents as PDF: a Django template rendered to HTML, then to PDF by WeasyPrint.

The document's styles live in its own <style> element (set `font-family` in
`@page` too, or the page numbers fall back to another font). Nothing is ever
fetched from another server while rendering: this is a privacy product, and a
document naming a pupil must not tell a third party it was made. Only inline
`data:` URLs and the application's own static files can be used.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from django.http import HttpRequest

# WeasyPrint reports each rendering step at INFO: one export would fill the log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Relative URLs in a document resolve against this, so "/static/x.svg" becomes
# "file:///static/x.svg", which the fetcher maps to the static file itself.
_BASE_URL = "file:///"


class RefusedURL(ValueError):
    """A document asked for something other than an inline or static resource."""


def render_pdf(
    template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None
) -> bytes:
    """The template rendered with `context` (and the request's context processors) as PDF."""
    # Imported here: loading WeasyPrint takes most of a second, which only
    # the requests that make a document should pay, not every process start.
    from weasyprint import HTML  # type: ignore[import-untyped]

    html = render_to_string(template_name, context, request=request)
    document = HTML(string=html, base_url=_BASE_URL, url_fetcher=local_only_fetcher())
    pdf: bytes = document.write_pdf()
    return pdf


def local_only_fetcher() -> Any:
    """A WeasyPrint URL fetcher for `data:` URLs and the application's static files only.

    WeasyPrint catches a refusal, logs it and leaves the resource out, so a
    stray link in a template costs an image, never a request to the outside.
    """
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            return super().fetch(Path(static_file_for(url)).as_uri(), headers)

    return LocalOnlyFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def static_file_for(url: str) -> str:
    """The path of the static file `url` names, or RefusedURL."""
    parts = urlsplit(url)
    static_prefix = settings.STATIC_URL or "/static/"
    if parts.scheme != "file" or parts.netloc or not parts.path.startswith(static_prefix):
        raise RefusedURL(f"Documents may only use the application's static files: {url}")
    try:
        found = finders.find(unquote(parts.path.removeprefix(static_prefix)))
    except SuspiciousFileOperation as outside:  # "../" out of the static directories
        raise RefusedURL(f"Not a static file: {url}") from outside
    if not isinstance(found, str):
        raise RefusedURL(f"No static file at {url}")
    return found
