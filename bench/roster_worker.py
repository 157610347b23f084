"""One roster job in a process of its own, as a Celery worker runs it, for the bench's memory figure.

`python -m bench.roster_worker check|commit IMPORT_ID` runs towns/roster_import/jobs.py's step
and prints one JSON line: {"seconds", "max_rss_mb", "status", ...}. The commit runs inside a
transaction that is rolled back: the county database keeps none of it. Peak RSS is the process's
own (getrusage): Django, openpyxl and the job together, as a worker would hold them.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main(step: str, import_id: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import transaction

    from core.audit import audit_context
    from core.models import AuditRecord
    from towns.models import RosterImport
    from towns.roster_import import jobs

    started_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with audit_context(channel=AuditRecord.Channel.IMPORT):
        if step == "check":
            jobs.run_check(import_id)
            roster_import = RosterImport._base_manager.get(pk=import_id)
        else:
            with transaction.atomic():
                jobs.run_commit(import_id)
                roster_import = RosterImport._base_manager.get(pk=import_id)  # before the rollback
                transaction.set_rollback(True)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_before_mb": started_rss / 1024,
                "status": roster_import.status,
                "message": roster_import.message,
                "to_create": roster_import.to_create,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
