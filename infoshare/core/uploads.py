"""Uploaded PDFs, for every app that takes them: checked by content, limited in size as they arrive.

DESIGN.md rule 8: uploads are size-limited and type-checked. A PDF is judged
by its first bytes, never its name. Its size is limited twice: while the
request arrives (`uploads_limited` puts `UploadSizeLimit` first, so a huge
file is never stored whole) and again by the service (`check_pdf`), so a
command or the shell obeys the same limit. Stored files get random names
chosen by each model's `upload_to`, and are downloaded only through views that
check membership and record an audit event.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from infoshare.core.checks import raise_if

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase

    from infoshare.core.tenancy import View

# A signed copy, a disposal certificate, a policy document: PDF only, at most this size.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


def check_pdf(upload: UploadedFile | None, field_name: str) -> None:
    """A PDF within the size limit, judged by its content, not its name.

    The limit is read when called (not bound at import), so a test may lower it.
    """
    if upload is None:
        raise_if({field_name: "Choose a PDF file to upload."})
        return
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise_if({field_name: too_large_message()})
    upload.seek(0)
    starts = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if starts != PDF_MAGIC:
        raise_if({field_name: "The file must be a PDF."})


def too_large_message() -> str:
    return f"The file must be smaller than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."


# --- While the request arrives ----------------------------------------------------------


class UploadSizeLimit(FileUploadHandler):
    """Stops receiving a file once it passes `limit` bytes, and notes its field.

    Django would otherwise write the whole upload to a temporary file before
    any form sees it. The file that passes the limit is skipped (the rest of
    it is read and thrown away), so the form finds its field empty and is told
    why by `too_large`.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large: set[str] = set()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.too_large.add(str(self.field_name))
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler keeps the file; this one only counts


def uploads_limited(view: View) -> View:
    """Limit the size of each uploaded file to MAX_UPLOAD_BYTES for `view`."""
    return uploads_limited_to(lambda: MAX_UPLOAD_BYTES)(view)


def uploads_limited_to(
    limit: Callable[[], int],
) -> Callable[[View], View]:
    """Limit the size of each uploaded file to `limit()` bytes for the decorated view.

    `limit` is called for each request, so a setting read there may change (in
    tests, say). Upload handlers can only be changed before the request's body
    is read, and the CSRF middleware reads it first; so, as Django's
    documentation on changing upload handlers shows, the check is exempted
    from the middleware and done here instead, after the limit is in place.
    """

    def decorator(view: View) -> View:
        protected = csrf_protect(view)

        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            # First, so that it sees each chunk before the handler that stores it.
            handler = UploadSizeLimit(request, limit())
            request.upload_handlers = [handler, *request.upload_handlers]
            return protected(request, *args, **kwargs)

        return wrapper

    return decorator


def too_large_uploads(request: HttpRequest) -> set[str]:
    """The fields whose file `UploadSizeLimit` stopped (none on a GET)."""
    if request.method != "POST":
        return set()
    return next(
        (h.too_large for h in request.upload_handlers if isinstance(h, UploadSizeLimit)), set()
    )
