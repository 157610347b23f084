"""Drafting the weekly bulletin (组工信息, issue 7 §2; rewritten for issue 12 §4) from the towns' records.

What an editor would keep, after the seed (天长组工信息 第118期): a county lead paragraph, then the
towns the week's data singles out (most people reached, highest coverage, most demands solved, a
微心愿 fulfilled, 送学上门 or a health service), each with a headline of its own and sentences drawn
from its records (its activities by kind and title, the demands it settled, the wishes and who
claimed them); a town's own submitted 经验做法 is used first; every other active town is named in
one closing sentence (its generated item kept but not printed, for the editor to add back).

Every kind of contact is named for what it is: 入户走访 counts households with a door visit; 电话慰问,
集中慰问, 送学上门, 健康服务 count the people contacted that way. tests/reports/test_bulletin_figures.py
reads the .docx and checks every figure against SQL of its own.

A county job: reads every town with unscoped(). A constant number of queries whatever the number
of towns: one grouped aggregate per source, then one bulk insert of the items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber

from core import audit
from core.scoping import unscoped
from funds.models import Disbursement
from reports.models import Bulletin, BulletinItem, BulletinSubmission
from reports.phrasing import approx, approx_yuan
from towns.models import Town
from visits.followup_figures import SOLVED_STATUSES
from visits.models import Activity, Campaign, FollowUp, Visit


class BulletinPublished(Exception):
    """The week's issue is published: frozen, not redrafted."""


# Contact kinds in the order the bulletin names them, with what each counts: households for a door
# visit (入户走访88户), people for the others (电话慰问11人).
CONTACT_KINDS = [
    (Visit.Kind.HOME, "入户走访", "户"),
    (Visit.Kind.PHONE, "电话慰问", "人"),
    (Visit.Kind.GROUP, "集中慰问", "人"),
    (Visit.Kind.STUDY, "送学上门", "人"),
    (Visit.Kind.HEALTH, "健康服务", "人"),
]
# Titles quoted in an item: enough to say what was done, short enough to read.
QUOTED_TITLES = 2
SETTLED_ROWS_READ = 4 * QUOTED_TITLES


@dataclass
class TownWeek:
    """One town's figures: the week's work, and the follow-ups to date (截至目前)."""

    households: int = 0  # households with a visit of any kind (kept for the bench's cross-check)
    people: int = 0  # people with a visit of any kind
    visits: int = 0
    contacts: dict = field(default_factory=dict)  # Visit.Kind -> households (home) or people (others)
    activities: int = 0
    activity_kinds: list = field(default_factory=list)  # labels, most frequent first
    activity_titles: list = field(default_factory=list)
    study_health_activities: int = 0
    reached: int = 0
    gifts: int = 0
    cash: object = 0
    grants: int = 0
    raised_in_week: int = 0
    measures: int = 0
    demands_solved: int = 0
    demand_titles: list = field(default_factory=list)
    wishes_fulfilled: int = 0
    wish_titles: list = field(default_factory=list)
    wish_branches: list = field(default_factory=list)
    coverage: float | None = None  # the campaign's targets reached by the week's end (reports.selectors)

    @property
    def active(self) -> bool:
        return bool(self.visits or self.activities or self.grants or self.raised_in_week)

    @property
    def reached_total(self) -> int:
        """People reached in the week: by a visit of any kind, or at an activity."""
        return self.people + self.reached

    @property
    def study_health(self) -> int:
        return self.contacts.get(Visit.Kind.STUDY, 0) + self.contacts.get(Visit.Kind.HEALTH, 0) + self.study_health_activities


def _bounds(week_start: date) -> tuple[datetime, datetime, date]:
    tz = ZoneInfo(settings.TIME_ZONE)
    week_end = week_start + timedelta(days=7)
    return datetime.combine(week_start, time.min, tz), datetime.combine(week_end, time.min, tz), week_end


def _distinct(values, limit: int) -> list:
    seen = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen[:limit]


def town_week_figures(week_start: date, *, campaign: Campaign | None = None) -> dict[int, TownWeek]:
    """Figures per town id for the week [week_start, week_start + 7). Call inside unscoped().

    campaign: the week's campaign, whose coverage (its targets reached by the week's last day) is read
    through the dashboard rollups, so the rule for who is a target is the dashboard's.
    """
    start, end, week_end = _bounds(week_start)
    rows: dict[int, TownWeek] = {}

    def row(town_id):
        return rows.setdefault(town_id, TownWeek())

    in_week = Visit.objects.filter(visited_at__gte=start, visited_at__lt=end).order_by()
    for v in in_week.values("town_id").annotate(
        n=Count("id"), people=Count("beneficiary_id", distinct=True), households=Count("household_id", distinct=True)
    ):
        r = row(v["town_id"])
        r.visits, r.people, r.households = v["n"], v["people"], v["households"]
    for v in in_week.values("town_id", "kind").annotate(
        people=Count("beneficiary_id", distinct=True), households=Count("household_id", distinct=True)
    ):
        row(v["town_id"]).contacts[v["kind"]] = v["households"] if v["kind"] == Visit.Kind.HOME else v["people"]
    labels = dict(Activity.Kind.choices)
    by_kind: dict[int, dict[str, int]] = {}
    for a in (
        Activity.objects.filter(held_on__gte=week_start, held_on__lt=week_end)
        .order_by("town_id", "-reached_count", "held_on", "id")
        .values("town_id", "kind", "title", "reached_count", "gifts_count")
    ):
        # One row per activity (a town holds a handful a week): kinds and titles are what the item quotes.
        r = row(a["town_id"])
        r.activities += 1
        # reached_count already includes the people picked by name (activity_create stores the larger).
        r.reached += a["reached_count"]
        r.gifts += a["gifts_count"]
        if a["title"] not in labels.values():  # a title that only names the kind says nothing more
            r.activity_titles.append(a["title"])
        kinds = by_kind.setdefault(a["town_id"], {})
        kinds[labels[a["kind"]]] = kinds.get(labels[a["kind"]], 0) + 1
        if a["kind"] in (Activity.Kind.STUDY, Activity.Kind.HEALTH):
            r.study_health_activities += a["reached_count"] or 1
    for town_id, kinds in by_kind.items():
        r = rows[town_id]
        r.activity_kinds = sorted(kinds, key=lambda k: -kinds[k])
        r.activity_titles = _distinct(r.activity_titles, QUOTED_TITLES)
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
    to_date = FollowUp.objects.filter(raised_on__lt=week_end).exclude(status=FollowUp.Status.REJECTED).order_by()
    for v in to_date.values("town_id").annotate(
        raised=Count("id", filter=Q(raised_on__gte=week_start)),
        measures=Count("id", filter=Q(kind=FollowUp.Kind.MEASURE)),
        solved=Count("id", filter=Q(kind=FollowUp.Kind.DEMAND, status__in=SOLVED_STATUSES)),
        wishes=Count("id", filter=Q(kind=FollowUp.Kind.WISH, status__in=SOLVED_STATUSES)),
    ):
        r = row(v["town_id"])
        r.raised_in_week, r.measures, r.demands_solved, r.wishes_fulfilled = v["raised"], v["measures"], v["solved"], v["wishes"]
    # What was settled, most recent first: the titles the item quotes and the branches that claimed wishes.
    # Only the newest few per town and kind are read (a county settles tens of thousands to date); a
    # margin over QUOTED_TITLES leaves room for repeated titles.
    newest = Window(RowNumber(), partition_by=[F("town_id"), F("kind")], order_by=[F("updated_at").desc(), F("id").desc()])
    for f in (
        to_date.filter(kind__in=(FollowUp.Kind.DEMAND, FollowUp.Kind.WISH), status__in=SOLVED_STATUSES)
        .annotate(newest=newest)
        .filter(newest__lte=SETTLED_ROWS_READ)
        .order_by("town_id", "-updated_at", "-id")
        .values("town_id", "kind", "title", "claimed_by_branch__name")
    ):
        r = rows[f["town_id"]]
        if f["kind"] == FollowUp.Kind.DEMAND:
            r.demand_titles.append(f["title"])
        else:
            r.wish_titles.append(f["title"])
            r.wish_branches.append(f["claimed_by_branch__name"])
    for r in rows.values():
        r.demand_titles = _distinct(r.demand_titles, QUOTED_TITLES)
        r.wish_titles = _distinct(r.wish_titles, QUOTED_TITLES)
        r.wish_branches = _distinct(r.wish_branches, QUOTED_TITLES)
    if campaign is not None and rows:
        from reports.selectors import coverage_by_town

        last_day = week_end - timedelta(days=1)
        for town_id, f in coverage_by_town(campaign.pk, list(rows), start=campaign.starts_on, end=last_day).items():
            if town_id in rows and f.targeted:
                rows[town_id].coverage = f.reached / f.targeted
    return rows


def total(figures) -> TownWeek:
    """The county's (or a group of towns') figures: every count here is additive across towns."""
    out = TownWeek()
    for f in figures:
        for name in ("households", "people", "visits", "activities", "reached", "gifts", "grants", "measures"):
            setattr(out, name, getattr(out, name) + getattr(f, name))
        out.cash += f.cash
        out.demands_solved += f.demands_solved
        out.wishes_fulfilled += f.wishes_fulfilled
        out.raised_in_week += f.raised_in_week
        for kind, n in f.contacts.items():
            out.contacts[kind] = out.contacts.get(kind, 0) + n
        out.activity_kinds += [k for k in f.activity_kinds if k not in out.activity_kinds]
    return out


# --- the words ---------------------------------------------------------------------------------


def contacts_phrase(f: TownWeek) -> str:
    """ "入户走访88户，电话慰问11人，健康服务5人": every kind of contact named for what it is."""
    return "，".join(f"{label}{approx(f.contacts[kind])}{unit}" for kind, label, unit in CONTACT_KINDS if f.contacts.get(kind))


def _quoted(titles) -> str:
    """“A”“B”; quotes inside a title become the inner kind (“西楼村‘心系特殊家庭’入户宣讲”)."""
    return "".join("“" + t.strip("“”").replace("“", "‘").replace("”", "’") + "”" for t in titles)


def activities_phrase(f: TownWeek, *, with_titles: bool = True) -> str:
    """ "开展集中慰问、宣讲活动3次（“红园村集中慰问活动”“龙庄村党的二十大精神宣讲”等），惠及群众110余人"."""
    if not f.activities:
        return ""
    text = f"开展{'、'.join(f.activity_kinds[:3])}活动{approx(f.activities)}次"
    if with_titles and f.activity_titles:
        text += f"（{_quoted(f.activity_titles)}{'等' if f.activities > len(f.activity_titles) else ''}）"
    if f.reached:
        text += f"，惠及群众{approx(f.reached)}人"
    return text


def grants_phrase(f: TownWeek) -> str:
    parts = []
    if f.cash:
        parts.append(f"慰问金{approx_yuan(f.cash)}元")
    if f.gifts:
        parts.append(f"慰问品{approx(f.gifts)}份")
    return "发放" + "、".join(parts) if parts else ""


def coverage_text(coverage: float | None) -> str:
    """Floored, so the bulletin never rounds 99.6% up to a 100% it did not reach."""
    return f"{int(coverage * 100)}%" if coverage is not None else ""


def _week_phrase(f: TownWeek, *, with_titles: bool = True) -> list[str]:
    return [p for p in (contacts_phrase(f), activities_phrase(f, with_titles=with_titles), grants_phrase(f)) if p]


def _followups_sentence(f: TownWeek, *, detail: bool) -> str:
    parts = []
    if f.measures:
        parts.append(f"制定慰问帮扶措施{approx(f.measures)}条")
    if f.demands_solved:
        titles = f"，办结{_quoted(f.demand_titles)}等事项" if detail and f.demand_titles else ""
        parts.append(f"帮助解决群众诉求{approx(f.demands_solved)}个{titles}")
    if f.wishes_fulfilled:
        who = f"{'、'.join(f.wish_branches)}党员" if detail and f.wish_branches else "党员干部"
        what = f"{_quoted(f.wish_titles)}等" if detail and f.wish_titles else ""
        parts.append(f"{who}认领兑现{what}“微心愿”{approx(f.wishes_fulfilled)}个")
    return "截至目前，" + "，".join(parts) if parts else ""


# Why a town is singled out, in the order the issue presents them, with headlines an editor would
# write for it ({d}: the drive, “双节慰问”), none claiming more than the figures show (a town at 73%
# coverage is not 不落一人). Each reason singles out its top town.
REASONS = [
    (
        "demands",
        lambda f: f.demands_solved,
        ["问需于民解难题，{d}见行见效", "{d}解民忧，为民办事见实效", "办好群众“身边事”，{d}暖民心"],
    ),
    (
        "reached",
        lambda f: f.reached_total,
        ["敲门入户访民情，{d}走深走实", "进家门、访民困，{d}情暖万家", "面对面听民声，{d}暖人心"],
    ),
    (
        "coverage",
        lambda f: f.coverage or 0,
        ["网格包保到人，{d}走访见实效", "精准摸排建台账，{d}走访有序推进", "包保责任落到人，{d}走访走在前"],
    ),
    (
        "wish",
        lambda f: f.wishes_fulfilled,
        ["认领“微心愿”，点亮群众“微幸福”", "党员认领“微心愿”，{d}圆民愿", "小心愿连着大民生，{d}暖人心"],
    ),
    (
        "study_health",
        lambda f: f.study_health,
        ["送学送医进家门，{d}显真情", "健康服务到身边，{d}暖人心", "送学上门传党恩，关怀直达群众身边"],
    ),
]
FALLBACK_HEADLINES = ["{d}暖民心，慰问显真情", "扎实开展{d}走访慰问", "{d}送温暖，关怀直达群众身边", "{d}走深走实，情暖万家"]


def _drive(topic: str) -> str:
    return f"“{topic}”" if topic else "走访慰问"


def pick_towns(figures: dict[int, TownWeek], order: dict[int, str]) -> dict[int, list[str]]:
    """Town id -> the reasons it is singled out for (the top town of each reason; order: town id ->
    division code, for ties). A town on top of two reasons gets one item saying both."""
    picked: dict[int, list[str]] = {}
    for reason, score, _ in REASONS:
        candidates = [(score(f), order.get(pk, ""), pk) for pk, f in figures.items() if score(f)]
        if candidates:
            best = min(candidates, key=lambda c: (-c[0], c[1]))
            picked.setdefault(best[2], []).append(reason)
    return picked


def headline_for(reason: str | None, topic: str, taken: set[str]) -> str:
    """The first headline for the reason not yet used in the issue, then the generic ones, then any
    other reason's: no headline repeats within an issue (16 towns, 19 headlines)."""
    d = _drive(topic)
    own = next((h for r, _, h in REASONS if r == reason), [])
    pool = own + FALLBACK_HEADLINES + [h for r, _, hs in REASONS if r != reason for h in hs]
    for text in pool:
        headline = text.format(d=d)
        if headline not in taken:
            taken.add(headline)
            return headline
    n = 2
    while (headline := f"{FALLBACK_HEADLINES[0].format(d=d)}（{n}）") in taken:
        n += 1
    taken.add(headline)
    return headline


_OPENINGS = {
    "demands": "坚持问需于民，建立诉求台账，能立即解决的立即解决，不能立即解决的挂图作战、限时办结。",
    "reached": "组织镇村干部和网格员进家门、访民困，面对面了解群众冷暖。",
    "coverage": "按照包保责任区逐户走访慰问对象，走访进度走在全市前列。",
    "wish": "组织党员认领群众“微心愿”，把关怀送到群众心坎上。",
    "study_health": "把党的关怀和健康服务送到群众家门口。",
}


def item_text(figures: TownWeek, topic: str, taken: set[str] | None = None, reasons=()) -> tuple[str, str]:
    """(headline, body) in the bulletin's phrasing; taken: headlines already used in the issue;
    reasons: why the town is singled out (the first gives the headline and the opening)."""
    reasons = [reasons] if isinstance(reasons, str) else list(reasons or [])
    reason = reasons[0] if reasons else None
    headline = headline_for(reason, topic, taken if taken is not None else set())
    sentences = []
    if reason in _OPENINGS:
        sentences.append(_OPENINGS[reason].rstrip("。"))
    week = _week_phrase(figures)
    if week:
        sentences.append("本周，" + "，".join(week))
    if figures.coverage is not None and "coverage" in reasons:
        sentences.append(f"{_drive(topic)}对象走访覆盖率达{coverage_text(figures.coverage)}，居全市首位")
    followups = _followups_sentence(figures, detail=True)
    if followups:
        sentences.append(followups)
    if not week and not followups:
        sentences.append("本周新登记群众诉求和帮扶事项，正在跟踪办理")
    return headline, "。".join(sentences) + "。"


def _week_range(week_start: date) -> str:
    last = week_start + timedelta(days=6)
    end = f"{last.day}日" if last.month == week_start.month else f"{last.month}月{last.day}日"
    return f"{week_start.month}月{week_start.day}日至{end}"


def lead_text(county: TownWeek, towns: int, week_start: date, topic: str) -> str:
    """ "1月8日至14日，全市16个镇（街道）共入户走访…，惠及群众…". Empty when nothing was logged."""
    week = _week_phrase(county, with_titles=False)
    if not week:
        return ""
    drive = f"围绕{_drive(topic)}，" if topic else ""
    text = f"{_week_range(week_start)}，{drive}全市{towns}个镇（街道）共" + "，".join(week)
    followups = _followups_sentence(county, detail=False)
    return text + "。" + (followups + "。" if followups else "")


def closing_text(names: list[str], rest: TownWeek) -> str:
    """The towns with nothing singled out, in one sentence rather than near-identical items."""
    if not names:
        return ""
    who = f"{'、'.join(names)}等{len(names)}个镇（街道）" if len(names) > 1 else names[0]
    week = _week_phrase(rest, with_titles=False)
    did = "本周共" + "，".join(week) if week else "本周持续跟踪办理群众诉求"
    return f"此外，{who}{did}，各项工作有序推进。"


def campaign_for(week_start: date) -> Campaign | None:
    """The campaign running in the week (the latest started, if two overlap)."""
    week_end = week_start + timedelta(days=6)
    return Campaign.objects.filter(starts_on__lte=week_end, ends_on__gte=week_start).order_by("-starts_on", "id").first()


def topic_for(week_start: date) -> str:
    """The 专题 of the week: the campaign running then, without its year ("2024年双节慰问" → "双节慰问")."""
    campaign = campaign_for(week_start)
    return re.sub(r"^\d{4}年", "", campaign.name) if campaign else ""


def bulletin_draft(*, week_start: date, actor=None) -> Bulletin:
    """Draft (or redraft) the issue for the week starting week_start (a Monday).

    A draft has no number yet: publishing gives it the next one of the series (bulletin_services.publish),
    so abandoned drafts leave no gap. A second draft of the same week updates the draft: generated
    items are rebuilt from the figures (a generated item keeps whether it was printed), submitted and
    edited ones are kept, and so are the lead and closing once the editor changed them. A town's
    submission for the week (the latest not withdrawn) is used for a town that has no item yet.
    A published issue is frozen: BulletinPublished.
    """
    if week_start.weekday() != 0:
        raise ValueError("week_start must be a Monday")
    issue_date = week_start + timedelta(days=7)
    with unscoped(), transaction.atomic():
        campaign = campaign_for(week_start)
        topic = re.sub(r"^\d{4}年", "", campaign.name) if campaign else ""
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
        figures = town_week_figures(week_start, campaign=campaign)
        active = {pk: f for pk, f in figures.items() if f.active}
        submissions = {}
        for sub in BulletinSubmission.objects.filter(week_start=week_start, withdrawn_at__isnull=True).order_by("id"):
            submissions[sub.town_id] = sub  # the latest per town wins
        towns = {t.pk: t for t in Town.objects.filter(pk__in=[*active, *submissions])}
        before = None
        if created:
            action = "bulletin.draft"
        else:
            before = {"topic": bulletin.topic, "items": bulletin.items.count()}
            bulletin.topic = bulletin.topic or topic  # an editor's topic is kept
            action = "bulletin.redraft"
        # The editor's order and choices survive a redraft: towns already in the issue keep their
        # places and whether they are printed; new ones follow, their own texts first, then the towns
        # singled out, then the rest (kept, not printed) by division code.
        previous = [] if created else list(bulletin.items.values_list("town_id", "order", "id", "source", "included"))
        places = {town_id: (order, pk) for town_id, order, pk, _, _ in previous}
        was_included = {town_id: included for town_id, _, _, _, included in previous}
        kept = {}
        if not created:
            bulletin.items.filter(source=BulletinItem.Source.GENERATED).delete()
            kept = {item.town_id: item for item in bulletin.items.select_related("town")}
        fresh_subs = {pk: s for pk, s in submissions.items() if pk not in kept}
        codes = {pk: t.code for pk, t in towns.items()}
        # Each reason's top town over every active town: one that wrote its own text (or whose item the
        # editor kept) is featured by that text, not by a runner-up.
        picks = {pk: r for pk, r in pick_towns(active, codes).items() if pk not in kept and pk not in fresh_subs}
        rank = {pk: i for i, pk in enumerate(fresh_subs)} | {pk: len(fresh_subs) + i for i, pk in enumerate(picks)}
        slots = {pk: (1, rank.get(pk, 99), codes[pk], 0) for pk in active}
        slots.update({pk: (1, rank[pk], codes[pk], 0) for pk in fresh_subs})
        slots.update({pk: (0, 0, "", place) for pk, place in places.items() if pk in kept or pk in slots})
        new = []
        taken = {item.headline for item in kept.values()} | {s.headline.rstrip("。") for s in fresh_subs.values()}
        for order, town_id in enumerate(sorted(slots, key=lambda pk: slots[pk]), start=1):
            if town_id in kept:
                if kept[town_id].order != order:
                    kept[town_id].order = order
                    kept[town_id].save(update_fields=["order"])
                continue
            if town_id in fresh_subs:
                sub = fresh_subs[town_id]
                new.append(
                    BulletinItem(
                        bulletin=bulletin,
                        town_id=town_id,
                        order=order,
                        headline=sub.headline.rstrip("。"),
                        body=sub.body,
                        source=BulletinItem.Source.SUBMITTED,
                        submission=sub,
                        included=was_included.get(town_id, True),
                    )
                )
                continue
            headline, body = item_text(active[town_id], bulletin.topic, taken, picks.get(town_id))
            new.append(
                BulletinItem(
                    bulletin=bulletin,
                    town_id=town_id,
                    order=order,
                    headline=headline,
                    body=body,
                    included=was_included.get(town_id, town_id in picks),
                )
            )
        BulletinItem.objects.bulk_create(new)
        if not bulletin.text_edited:
            printed = {pk for pk, inc in was_included.items() if inc and pk in kept}
            printed |= {item.town_id for item in new if item.included}
            bulletin.lead, bulletin.closing = compose_lead_and_closing(bulletin, figures, printed, towns)
        bulletin.save(update_fields=["topic", "lead", "closing", "updated_at"])
        audit.record(
            actor=actor,
            action=action,
            obj=bulletin,
            before=before,
            after={
                "year": bulletin.year,
                "week_start": week_start,
                "topic": bulletin.topic,
                "towns": [towns[pk].name for pk in sorted(active, key=codes.get)],
                "featured": [towns[pk].name for pk in [*fresh_subs, *picks]],
            },
        )
    return bulletin


def compose_lead_and_closing(bulletin: Bulletin, figures: dict[int, TownWeek], printed: set[int], towns: dict) -> tuple[str, str]:
    """The county paragraph (the week's work of the active towns, the follow-ups to date of every
    town) and the closing sentence over the active towns not printed."""
    active = {pk: f for pk, f in figures.items() if f.active}
    lead = lead_text(total(figures.values()), len(active), bulletin.week_start, bulletin.topic)
    rest = sorted((pk for pk in active if pk not in printed), key=lambda pk: towns[pk].code)
    closing = closing_text([towns[pk].name for pk in rest], total(active[pk] for pk in rest))
    return lead, closing


def refresh_closing(bulletin: Bulletin) -> None:
    """After the editor prints or leaves out a town: the lead and closing follow, unless the editor
    wrote them. Reads the week's figures again (a handful of grouped queries)."""
    if bulletin.text_edited:
        return
    with unscoped():
        figures = town_week_figures(bulletin.week_start)
        printed = set(bulletin.items.filter(included=True).values_list("town_id", flat=True))
        towns = {t.pk: t for t in Town.objects.filter(pk__in=[pk for pk, f in figures.items() if f.active])}
    lead, closing = compose_lead_and_closing(bulletin, figures, printed, towns)
    if (lead, closing) != (bulletin.lead, bulletin.closing):
        bulletin.lead, bulletin.closing = lead, closing
        bulletin.save(update_fields=["lead", "closing", "updated_at"])
