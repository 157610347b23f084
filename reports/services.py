"""Drafting the weekly bulletin (issue 7 §2) from the towns' figures.

A county job: reads every town with unscoped(). A constant number of queries whatever the number
of towns: one grouped aggregate per source (visits, activities, activity beneficiaries, grants,
follow-ups), then one bulk insert of the items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum

from funds import audit
from funds.models import Disbursement
from reports.models import Bulletin, BulletinItem
from reports.phrasing import approx, approx_yuan
from towns.models import Town
from towns.scoping import unscoped
from visits.followup_figures import SOLVED_STATUSES
from visits.models import Activity, Campaign, FollowUp, Visit


class BulletinPublished(Exception):
    """The week's issue is published: frozen, not redrafted."""


@dataclass
class TownWeek:
    """One town's figures: the week's work, and the follow-ups to date (截至目前)."""

    households: int = 0
    people: int = 0
    visits: int = 0
    activities: int = 0
    reached: int = 0
    gifts: int = 0
    cash: object = 0
    grants: int = 0
    raised_in_week: int = 0
    measures: int = 0
    demands_solved: int = 0

    @property
    def active(self) -> bool:
        return bool(self.visits or self.activities or self.grants or self.raised_in_week)


def _bounds(week_start: date) -> tuple[datetime, datetime, date]:
    tz = ZoneInfo(settings.TIME_ZONE)
    week_end = week_start + timedelta(days=7)
    return datetime.combine(week_start, time.min, tz), datetime.combine(week_end, time.min, tz), week_end


def town_week_figures(week_start: date) -> dict[int, TownWeek]:
    """Figures per town id for the week [week_start, week_start + 7). Call inside unscoped()."""
    start, end, week_end = _bounds(week_start)
    rows: dict[int, TownWeek] = {}

    def row(town_id):
        return rows.setdefault(town_id, TownWeek())

    for v in (
        Visit.objects.filter(visited_at__gte=start, visited_at__lt=end)
        .order_by()
        .values("town_id")
        .annotate(n=Count("id"), people=Count("beneficiary_id", distinct=True), households=Count("household_id", distinct=True))
    ):
        r = row(v["town_id"])
        r.visits, r.people, r.households = v["n"], v["people"], v["households"]
    for v in (
        Activity.objects.filter(held_on__gte=week_start, held_on__lt=week_end)
        .order_by()
        .values("town_id")
        .annotate(n=Count("id"), reached=Sum("reached_count", default=0), gifts=Sum("gifts_count", default=0))
    ):
        r = row(v["town_id"])
        # reached_count already includes the people picked by name (activity_create stores the larger).
        r.activities, r.reached, r.gifts = v["n"], v["reached"], v["gifts"]
    cash_kinds = (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)
    for v in (
        Disbursement.objects.handed_out()  # the one definition: pending, rejected and voided grants are not counted
        .filter(handed_at__gte=start, handed_at__lt=end)
        .order_by()
        .values("town_id")
        .annotate(
            n=Count("id"),
            cash=Sum("amount", filter=Q(kind__in=cash_kinds), default=0),
            goods=Sum("quantity", filter=Q(kind=Disbursement.Kind.GOODS), default=0),
        )
    ):
        r = row(v["town_id"])
        r.grants, r.cash = v["n"], v["cash"]
        r.gifts += v["goods"]
    for v in (
        FollowUp.objects.filter(raised_on__lt=week_end)
        .exclude(status=FollowUp.Status.REJECTED)
        .order_by()
        .values("town_id")
        .annotate(
            raised=Count("id", filter=Q(raised_on__gte=week_start)),
            measures=Count("id", filter=Q(kind=FollowUp.Kind.MEASURE)),
            solved=Count("id", filter=Q(kind=FollowUp.Kind.DEMAND, status__in=SOLVED_STATUSES)),
        )
    ):
        r = row(v["town_id"])
        r.raised_in_week, r.measures, r.demands_solved = v["raised"], v["measures"], v["solved"]
    return rows


# Headlines by what a town did most, most telling first; {d} is the drive (“双节慰问”). Within an
# issue each town gets the first fitting one not yet taken, so the items do not all read the same.
HEADLINES = [
    (lambda f: f.demands_solved >= 10, "{d}解民忧，为民办事见实效"),
    (lambda f: f.demands_solved >= 10, "问需于民解难题，{d}暖人心"),
    (lambda f: f.activities >= 2, "集中慰问进村入户，{d}暖民心"),
    (lambda f: f.activities >= 1, "{d}活动接连开展，关怀直达群众身边"),
    (lambda f: bool(f.cash or f.gifts), "{d}送温暖，入户慰问显真情"),
    (lambda f: bool(f.cash or f.gifts), "慰问物资送到家，{d}情暖人心"),
    (lambda f: bool(f.cash or f.gifts), "{d}暖民心，慰问显真情"),
    (lambda f: f.visits > 0, "敲门入户访民情，{d}不漏一户"),
    (lambda f: f.visits > 0, "{d}走访全覆盖，不漏一户不落一人"),
]


def _headline(figures: TownWeek, topic: str, taken: set[str] | None = None) -> str:
    drive = f"“{topic}”" if topic else "走访慰问"
    fitting = [text.format(d=drive) for fits, text in HEADLINES if fits(figures)]
    fitting.append(f"扎实开展“{topic}”走访慰问" if topic else "扎实开展走访慰问送温暖")
    taken = taken if taken is not None else set()
    headline = next((h for h in fitting if h not in taken), fitting[0])
    taken.add(headline)
    return headline


def item_text(figures: TownWeek, topic: str, taken: set[str] | None = None) -> tuple[str, str]:
    """(headline, body) in the bulletin's phrasing; taken: headlines already used in the issue."""
    headline = _headline(figures, topic, taken)
    week = []
    if figures.visits:
        week.append(f"入户走访{approx(figures.households)}户，慰问群众{approx(figures.people)}人")
    if figures.activities:
        week.append(f"开展慰问活动{figures.activities}次，惠及群众{approx(figures.reached)}人")
    if figures.gifts:
        week.append(f"发放慰问品{approx(figures.gifts)}份")
    if figures.cash:
        week.append(f"发放慰问金{approx_yuan(figures.cash)}元")
    sentences = []
    if week:
        sentences.append("本周，" + "，".join(week))
    todate = []
    if figures.measures:
        todate.append(f"制定慰问帮扶措施{approx(figures.measures)}条")
    if figures.demands_solved:
        todate.append(f"帮助解决群众诉求{approx(figures.demands_solved)}个")
    if todate:
        sentences.append("截至目前，" + "，".join(todate))
    if not sentences:
        sentences.append("本周新登记群众诉求和帮扶事项，正在跟踪办理")
    return headline, "。".join(sentences) + "。"


def topic_for(week_start: date) -> str:
    """The 专题 of the week: the campaign running then, without its year ("2024年双节慰问" → "双节慰问")."""
    week_end = week_start + timedelta(days=6)
    campaign = Campaign.objects.filter(starts_on__lte=week_end, ends_on__gte=week_start).order_by("-starts_on", "id").first()
    return re.sub(r"^\d{4}年", "", campaign.name) if campaign else ""


def bulletin_draft(*, week_start: date, actor=None) -> Bulletin:
    """Draft (or redraft) the issue for the week starting week_start (a Monday).

    A draft has no number yet: publishing gives it the next one of its year (bulletin_services.publish),
    so abandoned drafts leave no gap. A second draft of the same week updates the draft: generated
    items are rebuilt from the figures (a town the editor left out stays out), submitted and edited
    ones are kept. A published issue is frozen: BulletinPublished.
    """
    if week_start.weekday() != 0:
        raise ValueError("week_start must be a Monday")
    issue_date = week_start + timedelta(days=7)
    with unscoped(), transaction.atomic():
        topic = topic_for(week_start)
        bulletin = Bulletin.objects.select_for_update().filter(week_start=week_start).first()
        if bulletin is None:
            try:
                # Two drafts of one week at once (the Monday job and an editor): the second waits on
                # the unique week and then updates the first's draft.
                with transaction.atomic():
                    bulletin = Bulletin.objects.create(
                        year=issue_date.year, issue_date=issue_date, week_start=week_start, created_by=actor, topic=topic
                    )
                created = True
            except IntegrityError:
                bulletin = Bulletin.objects.select_for_update().get(week_start=week_start)
                created = False
        else:
            created = False
        if bulletin.status == Bulletin.Status.PUBLISHED:
            raise BulletinPublished(f"{bulletin} 已发布，不能重新生成")
        figures = town_week_figures(week_start)
        towns = list(Town.objects.filter(pk__in=[pk for pk, f in figures.items() if f.active]).order_by("code"))
        before = None
        if created:
            action = "bulletin.draft"
        else:
            before = {"topic": bulletin.topic, "items": bulletin.items.count()}
            bulletin.topic = bulletin.topic or topic  # an editor's topic is kept
            bulletin.save(update_fields=["topic", "updated_at"])
            action = "bulletin.redraft"
        # The editor's order and choices survive a redraft: towns already in the issue keep their
        # places, new ones follow by division code; a generated item left out stays left out.
        # (A first draft has no items yet: nothing to read back or rebuild.)
        previous = [] if created else list(bulletin.items.values_list("town_id", "order", "id", "source", "included"))
        places = {town_id: (order, pk) for town_id, order, pk, _, _ in previous}
        left_out = {
            town_id for town_id, _, _, source, included in previous if source == BulletinItem.Source.GENERATED and not included
        }
        kept = {}
        if not created:
            bulletin.items.filter(source=BulletinItem.Source.GENERATED).delete()
            kept = {item.town_id: item for item in bulletin.items.all()}
        slots = {t.pk: (1, t.code, 0) for t in towns}
        slots.update({town_id: (0, "", place) for town_id, place in places.items() if town_id in kept or town_id in slots})
        new = []
        taken = {item.headline for item in kept.values()}
        for order, town_id in enumerate(sorted(slots, key=lambda pk: slots[pk]), start=1):
            if town_id in kept:
                if kept[town_id].order != order:
                    kept[town_id].order = order
                    kept[town_id].save(update_fields=["order"])
                continue
            headline, body = item_text(figures[town_id], bulletin.topic, taken)
            new.append(
                BulletinItem(
                    bulletin=bulletin,
                    town_id=town_id,
                    order=order,
                    headline=headline,
                    body=body,
                    included=town_id not in left_out,
                )
            )
        BulletinItem.objects.bulk_create(new)
        audit.record(
            actor=actor,
            action=action,
            obj=bulletin,
            before=before,
            after={
                "year": bulletin.year,
                "week_start": week_start,
                "topic": bulletin.topic,
                "towns": [t.name for t in towns],
            },
        )
    return bulletin
