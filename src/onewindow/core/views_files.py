"""File downloads: only through the random token URL, only for readers `files.can_read` allows."""

import logging

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from onewindow.accounts.permissions import account_required
from onewindow.core import files
from onewindow.core.errors import NotFound
from onewindow.core.models import StoredFile

logger = logging.getLogger(__name__)


@account_required
@require_safe
def download(request: HttpRequest, token: str) -> FileResponse:
    """The file as an attachment; anyone who may not read it gets the same 404 as a bad token."""
    try:
        stored = files.file_for_download(actor=request.user, token=token)
    except NotFound:
        raise Http404 from None
    return attachment(stored)


def attachment(stored: StoredFile) -> FileResponse:
    """A stored file as a download that no browser will run or render as a page."""
    try:
        handle = files.open_stored(stored)
    except FileNotFoundError:
        logger.error("stored file %s is missing from disk", stored.pk)
        raise Http404 from None
    response = FileResponse(handle, content_type=stored.content_type)
    response["Content-Disposition"] = files.content_disposition(stored.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Should a browser render it anyway, the document gets no script, no origin, no requests.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
