from django.http import HttpResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import health
from core.decorators import public


@public
@require_safe
@never_cache
def healthz(request):
    """Liveness: the process answers. No database or Redis call: a restart would not fix those."""
    return HttpResponse("ok", content_type="text/plain")


@public
@require_safe
@never_cache
def readyz(request):
    """Readiness: PostgreSQL, Redis, the worker's heartbeat and beat's last run; 503 naming what is down."""
    results = health.checks()
    down = [c for c in results if not c.ok]
    lines = [f"{'ok' if c.ok else 'DOWN'} {c.name}: {c.detail}" for c in results]
    body = ("not ready: " + ", ".join(c.name for c in down) if down else "ready") + "\n" + "\n".join(lines) + "\n"
    return HttpResponse(body, content_type="text/plain; charset=utf-8", status=503 if down else 200)


def server_error(request, template_name="500.html"):
    """The 500 page tells the truth about the write (core/middleware.py): "未保存" only when nothing was."""
    saved = getattr(request, "_nuanxin_saved", None)
    context = {"saved": saved, "was_post": request.method == "POST"}
    try:
        body = loader.get_template(template_name).render(context)
    except Exception:
        body = "<h1>系统出现错误</h1>"
    return HttpResponse(body, status=500)
