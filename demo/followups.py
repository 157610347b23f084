"""Follow-ups raised on visits, with their history of events, and the 督办 escalation they would have reached."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from demo.facts import AS_OF, FOLLOWUP_TITLES, TZ
from demo.rows import Gen
from demo.state import BuilderState, TownState
from visits.followup_escalation import ESCALATING_STATUSES, LEVEL_LABELS, thresholds
from visits.models import FollowUp, FollowUpEvent


class FollowUpBuilder(BuilderState):
    """Follow-ups (诉求, 微心愿, 帮扶措施, 意见建议) and their events."""

    def build_followups(self, town: TownState, gen: Gen, visits: list) -> int:
        rng = gen.rng
        plan = []  # (kind, visit tuple, forced status group or None)
        if self.spec.seed_figures and town.name == "张铺镇":
            campaign_visits = [v for v in visits if v[4]]
            for i in range(283):  # 制定慰问帮扶措施280余条
                plan.append(("measure", campaign_visits[i % len(campaign_visits)], None))
            for i in range(43):  # 帮助解决群众诉求40余个
                plan.append(("demand", campaign_visits[(i * 7) % len(campaign_visits)], "solved"))
            for i in range(9):
                plan.append(("demand", campaign_visits[(i * 11 + 3) % len(campaign_visits)], "open"))
        elif self.spec.seed_figures and town.name == "仁和集镇":
            campaign_visits = [v for v in visits if v[4]]
            for i in range(24):  # 为慰问对象解决实际困难24个
                plan.append(("demand", campaign_visits[(i * 5) % len(campaign_visits)], "solved"))
            for i in range(6):
                plan.append(("demand", campaign_visits[(i * 13 + 1) % len(campaign_visits)], "open"))
            for i in range(7):  # 已收集各类意见7条
                plan.append(("suggestion", campaign_visits[(i * 17 + 2) % len(campaign_visits)], None))
            for i in range(22):  # 认领“微心愿”20余个
                plan.append(("wish", campaign_visits[(i * 3 + 1) % len(campaign_visits)], None))
        # The bulletin's towns keep its figures exactly at demo scale: no generic items on top.
        generic = not (self.spec.seed_figures and town.name in ("张铺镇", "仁和集镇"))
        for visit in visits:
            if generic and rng.random() < (0.08 if visit[4] else 0.045):
                plan.append((rng.choice(["demand", "demand", "demand", "wish", "measure", "suggestion"]), visit, None))
        followup_rows, event_rows = [], []
        for kind, visit, forced in plan:
            self._followup(gen, town, kind, visit, forced, followup_rows, event_rows)
        self.writer.insert(FollowUp, list(followup_rows[0]) if followup_rows else [], [tuple(r.values()) for r in followup_rows])
        self.writer.insert(FollowUpEvent, ["id", "followup_id", "actor_id", "at", "from_status", "to_status", "note"], event_rows)
        return len(followup_rows)

    def _followup(self, gen, town, kind, visit, forced, followup_rows, event_rows, as_of: date = AS_OF):
        w, rng = self.writer, gen.rng
        vid, person, at, team, campaign, _vkind = visit
        fid = w.new_id(FollowUp)
        raised = at.date()
        at_once = kind in ("demand", "wish") and forced != "open" and rng.random() < 0.35
        r = rng.random()
        if forced == "solved":
            status = rng.choice(["resolved", "revisited", "closed", "closed"])
        elif forced == "open":
            status = rng.choice(["pending", "in_progress", "in_progress"])
        elif at_once:
            status = "closed"
        elif kind == "measure":
            status = "in_progress" if r < 0.55 else ("resolved" if r < 0.75 else "closed")
        else:
            status = (
                "pending"
                if r < 0.1
                else "in_progress"
                if r < 0.38
                else "resolved"
                if r < 0.52
                else "revisited"
                if r < 0.62
                else "rejected"
                if r < 0.66
                else "closed"
            )
        owner_department = ""
        owner = None
        if kind == "demand" and rng.random() < 0.4:
            owner_department = rng.choice(["镇民政办", "镇卫生院", "镇社会事务办", "镇残联", "镇交通所", "镇农业农村办"])
        elif status not in ("pending", "rejected") or rng.random() < 0.5:
            owner = rng.choice([team[0], town.village_cadre[person.village_id]])
        deadline = None if at_once else raised + timedelta(days=rng.choice([7, 10, 15, 15, 30, 45]))
        title = rng.choice(FOLLOWUP_TITLES[kind])
        scope = "person"
        if kind == "suggestion":
            scope = rng.choice(["village", "village", "households"])
        urgency = rng.choice([1, 1, 1, 2, 2, 3])
        importance = rng.choice([1, 1, 2, 2, 3])
        reopened = 0
        satisfaction = ""
        # History: 登记 → 受理/交办 → 办结 → 回访 → 销号, at increasing times but never after as_of.
        moments = [at + timedelta(minutes=5)]
        handler = owner or team[0]

        def event(to_status, note, actor, days_later):
            moment = min(
                moments[-1] + timedelta(days=days_later, hours=rng.randint(1, 6)),
                datetime(as_of.year, as_of.month, as_of.day, 17, 30, tzinfo=TZ),
            )
            moment = max(moment, moments[-1] + timedelta(minutes=1))
            moments.append(moment)
            event_rows.append((w.new_id(FollowUpEvent), fid, actor, moment, events[-1] if events else "", to_status, note))
            events.append(to_status)

        events: list = []
        event_rows.append((w.new_id(FollowUpEvent), fid, team[0], moments[0], "", "pending", f"走访中登记：{title}"))
        events.append("pending")
        if at_once:
            event_rows.append(
                (w.new_id(FollowUpEvent), fid, team[0], moments[0] + timedelta(minutes=20), "pending", "resolved", "当场解决")
            )
            event_rows.append(
                (
                    w.new_id(FollowUpEvent),
                    fid,
                    team[0],
                    moments[0] + timedelta(minutes=25),
                    "resolved",
                    "closed",
                    "群众当场确认，销号",
                )
            )
            events += ["resolved", "closed"]
            moments.append(moments[0] + timedelta(minutes=25))
            satisfaction = "satisfied"
        elif status == "rejected":
            event(
                "rejected", "不予受理：不属于帮扶范围，已向群众解释政策", town.village_cadre[person.village_id], rng.randint(0, 3)
            )
        elif status != "pending":
            target = owner_department or "本人"
            event("in_progress", f"受理并交办：{target}负责办理", town.village_cadre[person.village_id], rng.randint(0, 2))
            dissatisfied = status in ("in_progress", "closed") and rng.random() < 0.05
            if status in ("resolved", "revisited", "closed") or dissatisfied:
                event("resolved", "办理完毕，已反馈群众", handler, rng.randint(2, 12))
            if status in ("revisited", "closed") or dissatisfied:
                satisfaction = "satisfied" if rng.random() < 0.8 else "mostly"
                event(
                    "revisited",
                    f"回访：群众表示{'满意' if satisfaction == 'satisfied' else '基本满意'}",
                    team[0],
                    rng.randint(1, 5),
                )
            if dissatisfied:
                event("in_progress", "回访群众不满意，复号重新办理", town.village_cadre[person.village_id], 0)
                reopened, satisfaction = 1, "dissatisfied"
                if status == "closed":
                    event("resolved", "再次办理完毕", handler, rng.randint(2, 6))
                    event("revisited", "再次回访：群众表示满意", team[0], rng.randint(1, 3))
                    satisfaction = "satisfied"
            if status == "closed":
                event("closed", "销号", town.village_cadre[person.village_id], rng.randint(0, 2))
        status = events[-1]
        followup_rows.append(
            {
                "id": fid,
                "town_id": town.id,
                "village_id": person.village_id,
                "cell_id": person.cell_id,
                "beneficiary_id": person.id,
                "visit_id": vid,
                "campaign_id": campaign,
                "kind": kind,
                "title": title,
                "description": f"{person.name}：{title}",
                "urgency": urgency,
                "importance": importance,
                "scope": scope,
                "owner_id": owner,
                "owner_department": owner_department,
                "raised_by_id": team[0],
                "raised_on": raised,
                "deadline": deadline,
                "tracked": deadline is not None and status != "rejected",
                "status": status,
                "resolved_at_once": at_once,
                "satisfaction": satisfaction,
                "reopened_count": reopened,
                "closed_on": moments[-1].astimezone(TZ).date() if status == "closed" else None,
                "rejection_reason": "不属于帮扶范围，已向群众解释政策" if status == "rejected" else "",
                "created_at": moments[0],
                "updated_at": moments[-1],
            }
        )

    def _escalate_as_of(self, today: date) -> int:
        """What the nightly 督办 job would have done by today: every open item past its deadline sits at
        the level its lateness calls for, with the job's events on the nights it rose. Without this the
        first night's run would move every item left open since 2024 at once."""
        limits = thresholds()
        late = list(
            FollowUp._base_manager.filter(
                status__in=ESCALATING_STATUSES, deadline__lte=today - timedelta(days=min(limits.values()))
            )
            .order_by("id")
            .only("id", "deadline", "escalation_level")
        )
        event_rows = []
        for item in late:
            for level, days in sorted(limits.items()):
                night = item.deadline + timedelta(days=days)
                if night > today or item.escalation_level >= level:
                    continue
                item.escalation_level = level
                item.escalated_at = datetime.combine(night, datetime.min.time(), TZ).replace(hour=1, minute=30)
                note = f"逾期{days}天以上，升级至{LEVEL_LABELS[level]}级督办"
                event_rows.append((self.writer.new_id(FollowUpEvent), item.id, "escalate", None, item.escalated_at, "", "", note))
        FollowUp._base_manager.bulk_update(late, ["escalation_level", "escalated_at"], batch_size=2000)
        self.writer.insert(
            FollowUpEvent, ["id", "followup_id", "kind", "actor_id", "at", "from_status", "to_status", "note"], event_rows
        )
        return len(late)
