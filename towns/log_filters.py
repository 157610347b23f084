"""Logging filters for the console of `make run` and the server's log."""

import logging


class NoTracebackForClientErrors(logging.Filter):
    """A 403 or 404 is an answer, not a failure: keep Django's one-line log ("Not Found: /x"),
    drop the traceback it attaches (the raised Http404 / PermissionDenied). 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
