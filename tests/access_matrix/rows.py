"""The matrix's vocabulary: roles, expected statuses per role, and the other town's objects the rows ask for."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import uuid4

from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import CANARY_PHONE, at
from visits.models import Visit

ROLES = ["anonymous", "grid_worker", "town_cadre", "town_admin", "county_viewer", "inspector", "sysadmin"]
TOWN_ROLES = {"grid_worker", "town_cadre", "town_admin"}
LOGIN = 302  # anonymous users are sent to the login page


def statuses(default: int, **per_role: int) -> dict:
    return {role: per_role.get(role, default) for role in ROLES}


def everyone(code: int) -> dict:
    return statuses(code)


def logged_in(code: int, **per_role: int) -> dict:
    return statuses(code, anonymous=LOGIN, **per_role)


@dataclass
class Row:
    get: dict
    post: dict
    kwargs: object = None  # callable(cast) -> dict of URL kwargs (the other town's objects)
    post_data: object = None  # callable(cast) -> dict
    query: object = None  # callable(cast) -> dict of query-string parameters (the other town's ids)
    extra: dict = field(default_factory=dict)


COUNTY_SEE = {"county_viewer": 200, "inspector": 200, "sysadmin": 200}
TOWN_404 = {"grid_worker": 404, "town_cadre": 404, "town_admin": 404}
TOWN_200 = {"grid_worker": 200, "town_cadre": 200, "town_admin": 200}


def a_bulletin(cast):
    from reports.models import Bulletin

    n = Bulletin.objects.count()
    bulletin = Bulletin.objects.create(
        year=2024, number=n + 1, issue_date=date(2024, 1, 15), week_start=date(2024, 1, 8) - timedelta(weeks=n), topic="双节慰问"
    )
    return {"pk": bulletin.pk}


def a_published_bulletin(cast):
    """A published issue: what every reader on the 送 list opens (a draft is the editor's: a 404 to them)."""
    from django.utils import timezone

    from reports.models import Bulletin

    n = Bulletin.objects.count()
    bulletin = Bulletin.objects.create(
        year=2024,
        number=n + 1,
        issue_date=date(2024, 1, 15),
        week_start=date(2024, 1, 8) - timedelta(weeks=n),
        topic="双节慰问",
        status=Bulletin.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    return {"pk": bulletin.pk}


BULLETIN_READERS = {"town_cadre": 200, "town_admin": 200, "county_viewer": 200, "inspector": 200, "sysadmin": 200}


def tongcheng_person(cast):
    return {"pk": cast.tongcheng.person.pk}


def tongcheng_cadre(cast):
    return {"pk": cast.tongcheng.cadre.cadre.pk}


def tongcheng_audit(cast):
    with unscoped():
        record = AuditRecord.objects.filter(town=cast.tongcheng.town).order_by("id").first()
    return {"pk": record.pk}


def tongcheng_person_query(cast):
    return {"beneficiary": cast.tongcheng.person.pk}


def tongcheng_visit_form(cast):
    return {
        "beneficiary": cast.tongcheng.person.pk,
        "idempotency_key": str(uuid4()),
        "kind": "home",
        "visited_at": "2024-01-09T10:00",
        "cash_amount": "300",
        "cash_kind": "cash",
        "demands": "矩阵测试诉求",
    }


def tongcheng_visit(cast):
    person = cast.tongcheng.person
    with unscoped():
        visit = Visit.objects.create(
            beneficiary=person,
            household_id=person.household_id,
            town_id=person.town_id,
            cell_id=person.cell_id,
            visited_at=at(2024, 1, 9),
            recorded_by=cast.tongcheng.grid_worker.cadre,
            notes=CANARY_PHONE,
            idempotency_key=uuid4(),
        )
    return {"pk": visit.pk}
