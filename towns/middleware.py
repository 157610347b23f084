import uuid

from django.conf import settings
from django.http import HttpResponse

from funds.audit import audit_context
from funds.models import AuditRecord
from towns.scoping import guarded


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
            return HttpResponse(
                f"上传内容过大（超过 {settings.MAX_REQUEST_BYTES // (1024 * 1024)} MB），请压缩或拆分后重试。",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        request.request_id = request.headers.get("X-Request-ID", "")[:40] or uuid.uuid4().hex
        channel = AuditRecord.Channel.ADMIN if request.path.startswith("/admin/") else AuditRecord.Channel.WEB
        with audit_context(channel=channel, request_id=request.request_id):
            if settings.SCOPE_GUARD:
                with guarded():
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
