"""Follow-ups made straight in the database for the escalation, board and figures tests."""

from datetime import date

from core.scoping import unscoped
from visits.models import FollowUp


def make_followup(
    town_cast,
    *,
    title="修缮屋顶",
    kind=FollowUp.Kind.DEMAND,
    status=FollowUp.Status.IN_PROGRESS,
    deadline=None,
    raised_on=date(2024, 1, 2),
    owner=None,
    **extra,
) -> FollowUp:
    owner = owner if owner is not None else town_cast.cadre.cadre
    if status == FollowUp.Status.CLOSED:
        extra.setdefault("closed_on", deadline or raised_on)
    with unscoped():
        return FollowUp.objects.create(
            town=town_cast.town,
            village=town_cast.village,
            cell=town_cast.cell,
            beneficiary=town_cast.person,
            kind=kind,
            title=title,
            owner=owner,
            raised_by=town_cast.grid_worker.cadre,
            raised_on=raised_on,
            deadline=deadline,
            status=status,
            **extra,
        )
