import logging
import re
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control

from core.audit import audit_context
from core.models import AuditRecord
from core.scoping import guarded
from towns import access_log
from towns.roster_import.parse import MAX_BYTES

log = logging.getLogger("nuanxin.request")
# A client's own request id is kept only if it looks like one (no spaces, no markup, no ID numbers
# smuggled into logs) and only beside ours: audit records carry the id we generated.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")


def client_request_id(value: str) -> str:
    value = (value or "").strip()
    if not _CLIENT_REQUEST_ID.match(value) or re.search(r"\d{15}", value):
        return ""
    return value


def too_large(request, length: int) -> HttpResponse:
    """The site's own page for an oversized upload, stating the limit the upload form states (the
    roster file limit; the request cap above it only leaves room for the form's other fields)."""
    context = {"limit_mb": MAX_BYTES // (1024 * 1024), "size_mb": f"{length / 1024 / 1024:.1f}"}
    try:
        return render(request, "413.html", context, status=413)
    except Exception:  # the page must not fail where a plain sentence would do
        log.exception("413 page failed to render")
        return HttpResponse(
            f"上传的文件太大：文件不能超过 {context['limit_mb']} MB。", status=413, content_type="text/plain; charset=utf-8"
        )


class RequestContextMiddleware:
    """Gives each request an id and the web channel for audit records, and turns the scope guard on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Refuse an oversized upload before Django reads it to disk (rosters are capped at 20 MB).
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return too_large(request, length)
        # Ours, always: a client-chosen id in the audit trail could forge or confuse its history.
        request.request_id = uuid.uuid4().hex
        request.client_request_id = client_request_id(request.headers.get("X-Request-ID", ""))
        if request.client_request_id:
            log.debug("request %s carries client id %s", request.request_id, request.client_request_id)
        channel = AuditRecord.Channel.ADMIN if request.path.startswith("/admin/") else AuditRecord.Channel.WEB
        with audit_context(channel=channel, request_id=request.request_id), access_log.collecting(request):
            if settings.SCOPE_GUARD:
                with guarded():
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        if request.client_request_id:
            response["X-Client-Request-ID"] = request.client_request_id
        if not request.path.startswith(settings.STATIC_URL) and "no-store" not in response.get("Cache-Control", ""):
            # Pages and files of this site hold personal data: no browser or proxy keeps a copy.
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response
