"""Did this request save anything? The 500 page must not say "未保存" after a commit (issue 14 §2).

A write statement (INSERT/UPDATE/DELETE) on a table other than the session's and the lockout's
marks the request as saved when it commits: at once in autocommit, or when the outermost
transaction commits (on_commit). A write rolled back with its transaction never marks it.
"""

from django.db import connection, transaction

_WRITES = ("INSERT", "UPDATE", "DELETE")
_BOOKKEEPING = ("django_session", "axes_", "core_heartbeat")


class SaveTrackerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        request._nuanxin_saved = False

        def mark():
            request._nuanxin_saved = True

        def wrapper(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            head = sql.lstrip()[:6].upper()
            if head in _WRITES and not any(table in sql[:200] for table in _BOOKKEEPING):
                if context["connection"].in_atomic_block:
                    transaction.on_commit(mark, using=context["connection"].alias)
                else:
                    mark()
            return result

        with connection.execute_wrapper(wrapper):
            return self.get_response(request)
