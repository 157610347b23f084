"""The follow-up lifecycle (issue 6 §1): 问题清单销号, 挂图作战, 倒排工期, 回访, 复号, 微心愿."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import AuditRecord
from core.scoping import unscoped
from tests.matrix_objects import tongcheng_followup
from towns.models import PartyBranch
from visits import followup_services as fs
from visits.models import FollowUp, FollowUpEvent, FollowUpMilestone, FollowUpRule

S = FollowUp.Status


def _raise(cast, **kw):
    args = {"actor": cast.yeshan.cadre, "kind": FollowUp.Kind.DEMAND, "title": "屋顶漏雨", "beneficiary": cast.yeshan.person}
    args.update(kw)
    return fs.followup_raise(**args)


def _events(item):
    with unscoped():
        return list(FollowUpEvent.objects.filter(followup=item).order_by("id"))


def _reload(item):
    with unscoped():
        return FollowUp.objects.get(pk=item.pk)


def test_walk_through_every_state_with_a_reopen(cast):
    actor = cast.yeshan.cadre
    item = _raise(cast)
    assert item.status == S.PENDING and item.village_id == cast.yeshan.village.pk
    with pytest.raises(ValidationError, match="不能回访"):
        fs.followup_revisit(actor=actor, followup=item, satisfaction="satisfied")
    item = fs.followup_accept(actor=actor, followup=item)
    assert item.status == S.IN_PROGRESS and item.owner_id == actor.cadre.pk
    item = fs.followup_resolve(actor=actor, followup=item, note="已修好")
    assert item.status == S.RESOLVED and item.resolved_on == timezone.localdate()
    with pytest.raises(ValidationError, match="不能销号"):
        fs.followup_close(actor=actor, followup=item)
    # 不满意 at the return visit: 复号, back to 办理中, counted.
    item = fs.followup_revisit(actor=actor, followup=item, satisfaction="dissatisfied", note="还在漏")
    assert item.status == S.IN_PROGRESS and item.reopened_count == 1 and item.resolved_on is None
    assert _events(item)[-1].kind == FollowUpEvent.Kind.REOPEN
    item = fs.followup_resolve(actor=actor, followup=item)
    item = fs.followup_revisit(actor=actor, followup=item, satisfaction="mostly")
    assert item.status == S.REVISITED
    item = fs.followup_close(actor=actor, followup=item)
    assert item.status == S.CLOSED and item.closed_on == timezone.localdate() and item.reopened_count == 1
    with pytest.raises(ValidationError, match="不能受理"):
        fs.followup_accept(actor=actor, followup=item)
    kinds = [(e.from_status, e.to_status) for e in _events(item)]
    assert kinds == [
        ("", "pending"),
        ("pending", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "revisited"),
        ("revisited", "closed"),
    ]
    with unscoped():
        actions = list(
            AuditRecord.objects.filter(object_id=str(item.pk), action__startswith="followup.")
            .values_list("action", flat=True)
            .order_by("id")
        )
    assert actions == [
        "followup.create",
        "followup.accept",
        "followup.resolve",
        "followup.reopen",
        "followup.resolve",
        "followup.revisit",
        "followup.close",
    ]


def test_resolved_at_once(cast):
    item = fs.followup_resolve_at_once(actor=cast.yeshan.grid_worker, followup=_raise(cast, actor=cast.yeshan.grid_worker))
    assert item.status == S.RESOLVED and item.resolved_at_once and item.owner_id == cast.yeshan.grid_worker.cadre.pk


def test_reject_needs_a_reason(cast):
    item = _raise(cast)
    with pytest.raises(ValidationError, match="须填写原因"):
        fs.followup_reject(actor=cast.yeshan.cadre, followup=item, reason="  ")
    item = fs.followup_reject(actor=cast.yeshan.cadre, followup=item, reason="不属于本镇职责")
    assert item.status == S.REJECTED and item.rejection_reason == "不属于本镇职责"
    with pytest.raises(ValidationError, match="不能受理"):
        fs.followup_accept(actor=cast.yeshan.cadre, followup=item)


def test_reassignment_keeps_the_history(cast):
    actor = cast.yeshan.cadre
    item = fs.followup_accept(actor=actor, followup=_raise(cast))
    with pytest.raises(ValidationError, match="须填写原因"):
        fs.followup_reassign(actor=actor, followup=item, owner=cast.yeshan.admin.cadre, reason="")
    item = fs.followup_reassign(actor=actor, followup=item, owner=cast.yeshan.admin.cadre, reason="需镇里协调")
    item = fs.followup_reassign(actor=actor, followup=item, owner_department="民政办", reason="属民政事项")
    assert item.owner_id is None and item.owner_department == "民政办"
    notes = [e.note for e in _events(item) if e.kind == FollowUpEvent.Kind.REASSIGN]
    assert notes == [
        f"由 {actor.cadre.name} 改派给 {cast.yeshan.admin.cadre.name}：需镇里协调",
        f"由 {cast.yeshan.admin.cadre.name} 改派给 民政办：属民政事项",
    ]
    with unscoped():
        record = AuditRecord.objects.filter(action="followup.reassign").order_by("id").first()
    assert record.reason == "需镇里协调"
    # Another town's cadre is refused.
    with pytest.raises(ValidationError, match="责任人不存在"):
        fs.followup_reassign(actor=actor, followup=item, owner=cast.tongcheng.cadre.cadre.pk, reason="x")


def test_milestones_counted_back_from_the_deadline(cast):
    today = timezone.localdate()
    deadline = today + timedelta(days=30)
    item = fs.followup_track(actor=cast.yeshan.cadre, followup=_raise(cast), deadline=deadline)
    assert item.tracked and item.deadline == deadline and item.status == S.IN_PROGRESS
    with unscoped():
        steps = list(FollowUpMilestone.objects.filter(followup=item).order_by("due_on"))
    assert [(s.title, s.due_on) for s in steps] == [
        ("受理交办", today + timedelta(days=10)),
        ("办理落实", today + timedelta(days=20)),
        ("回访核实", deadline),
    ]
    fs.milestone_done(actor=cast.yeshan.cadre, milestone=steps[0].pk, note="已交办村委")
    with pytest.raises(ValidationError, match="已于"):
        fs.milestone_done(actor=cast.yeshan.cadre, milestone=steps[0].pk)
    fs.followup_progress(actor=cast.yeshan.cadre, followup=item, note="材料已采购")
    notes = [e.note for e in _events(item)]
    assert any(n.startswith("完成节点：受理交办") for n in notes) and "材料已采购" in notes
    # Given milestones must fall before the deadline.
    with pytest.raises(ValidationError, match="时限须在"):
        fs.followup_track(
            actor=cast.yeshan.cadre, followup=item, deadline=deadline, milestones=[("施工", deadline + timedelta(days=1))]
        )


def test_deadline_from_the_town_rule_and_the_default(cast):
    today = timezone.localdate()
    assert _raise(cast, urgency=3).deadline == today + timedelta(days=3)
    assert _raise(cast, urgency=1, importance=2).deadline == today + timedelta(days=7)
    assert _raise(cast).deadline == today + timedelta(days=15)
    with unscoped():
        FollowUpRule.objects.create(town=cast.yeshan.town, urgency=3, days=2)
        FollowUpRule.objects.create(town=cast.yeshan.town, urgency=1, importance=1, days=10)
        FollowUpRule.objects.create(town=cast.tongcheng.town, urgency=2, days=1)  # not 冶山镇's
    assert _raise(cast, urgency=3, importance=1).deadline == today + timedelta(days=2)
    assert _raise(cast).deadline == today + timedelta(days=10)
    assert _raise(cast, urgency=2).deadline == today + timedelta(days=7)
    assert _raise(cast, deadline=today + timedelta(days=40)).deadline == today + timedelta(days=40)


def test_village_suggestion_without_a_person(cast):
    item = _raise(
        cast,
        kind=FollowUp.Kind.SUGGESTION,
        title="板凳会：路灯不亮",
        beneficiary=None,
        village=cast.yeshan.village.pk,
        scope=FollowUp.Scope.VILLAGE,
    )
    assert item.beneficiary_id is None and item.village_id == cast.yeshan.village.pk and item.town_id == cast.yeshan.town.pk
    with pytest.raises(ValidationError, match="请选择事项所在的村"):
        _raise(cast, beneficiary=None)
    with pytest.raises(ValidationError, match="村（社区）不存在"):
        _raise(cast, beneficiary=None, village=cast.tongcheng.village.pk)


def test_micro_wish_claimed_and_fulfilled(cast):
    with unscoped():
        branch = PartyBranch.objects.create(town=cast.yeshan.town, village=cast.yeshan.village, name="长兴社区党支部")
        other = PartyBranch.objects.create(town=cast.tongcheng.town, name="龙岗村党支部")
    actor = cast.yeshan.cadre
    demand = _raise(cast)
    with pytest.raises(ValidationError, match="只有微心愿"):
        fs.wish_claim(actor=actor, followup=demand, name="张三", branch=branch.pk)
    wish = _raise(cast, kind=FollowUp.Kind.WISH, title="想要一台收音机")
    with pytest.raises(ValidationError, match="党支部不存在"):
        fs.wish_claim(actor=actor, followup=wish, name="张三", branch=other.pk)
    with pytest.raises(ValidationError, match="只有已认领"):
        fs.wish_fulfil(actor=actor, followup=wish)
    wish = fs.wish_claim(actor=actor, followup=wish, name="张三", branch=branch.pk)
    assert wish.claimed_by_name == "张三" and wish.claimed_by_branch_id == branch.pk and wish.status == S.IN_PROGRESS
    with pytest.raises(ValidationError, match="已由张三认领"):
        fs.wish_claim(actor=actor, followup=wish, name="李四", branch=branch.pk)
    wish = fs.wish_fulfil(actor=actor, followup=wish)
    assert wish.fulfilled_at is not None and wish.status == S.RESOLVED
    assert [e.kind for e in _events(wish)][1] == FollowUpEvent.Kind.CLAIM


def test_another_towns_item_is_refused(cast, client):
    pk = tongcheng_followup(cast)["pk"]
    with pytest.raises(ValidationError, match="不存在或不在您的管辖范围内"):
        fs.followup_accept(actor=cast.yeshan.cadre, followup=pk)
    with pytest.raises(ValidationError, match="慰问对象不存在"):
        _raise(cast, beneficiary=cast.tongcheng.person.pk)
    client.force_login(cast.yeshan.cadre)
    assert client.get(reverse("visits:followup_detail", args=[pk])).status_code == 404
    assert client.post(reverse("visits:followup_act", args=[pk]), {"action": "accept"}).status_code == 404
    assert _reload(FollowUp(pk=pk)).status == S.PENDING


@pytest.mark.parametrize("role", ["inspector", "county_viewer"])
def test_county_roles_read_only(cast, client, role):
    item = _raise(cast)
    user = getattr(cast, role)
    with pytest.raises(PermissionDenied):
        fs.followup_accept(actor=user, followup=item)
    client.force_login(user)
    page = client.get(reverse("visits:followup_detail", args=[item.pk]))
    assert page.status_code == 200 and 'data-testid="actions"' not in page.content.decode()
    assert client.post(reverse("visits:followup_act", args=[item.pk]), {"action": "accept"}).status_code == 403
    assert client.get(reverse("visits:followup_create")).status_code == 403
    assert _reload(item).status == S.PENDING


def test_pages_raise_and_act(cast, client):
    client.force_login(cast.yeshan.cadre)
    person = cast.yeshan.person
    form = client.get(reverse("visits:followup_create") + f"?beneficiary={person.pk}")
    assert form.status_code == 200 and person.name in form.content.decode()
    response = client.post(
        reverse("visits:followup_create"),
        {"kind": "demand", "title": "想修院墙", "beneficiary": person.pk, "urgency": "2", "importance": "1", "scope": "person"},
    )
    with unscoped():
        item = FollowUp.objects.get(title="想修院墙")
    assert response.status_code == 302 and response["Location"] == reverse("visits:followup_detail", args=[item.pk])
    assert item.deadline == timezone.localdate() + timedelta(days=7)
    act = reverse("visits:followup_act", args=[item.pk])
    client.post(act, {"action": "reject", "reason": ""})
    assert _reload(item).status == S.PENDING
    page = client.get(reverse("visits:followup_detail", args=[item.pk])).content.decode()
    assert "不予受理须填写原因" in page
    client.post(act, {"action": "accept"})
    client.post(act, {"action": "resolve"})
    client.post(act, {"action": "revisit", "satisfaction": "dissatisfied"})
    page = client.get(reverse("visits:followup_detail", args=[item.pk])).content.decode()
    assert "复号1次" in page and _reload(item).status == S.IN_PROGRESS
    # The person's page links the item.
    detail = client.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert reverse("visits:followup_detail", args=[item.pk]) in detail


def test_list_filters_order_and_query_count(cast, client, django_assert_max_num_queries):
    today = timezone.localdate()
    low = _raise(cast, title="一般事项")
    urgent = _raise(cast, title="紧急事项", urgency=3)
    late = _raise(cast, title="逾期事项", deadline=today)
    with unscoped():
        FollowUp.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=1), raised_on=today - timedelta(days=5))
    for i in range(20):
        _raise(cast, title=f"批量{i}", kind=FollowUp.Kind.WISH)
    client.force_login(cast.yeshan.cadre)
    url = reverse("visits:followup_list")
    with django_assert_max_num_queries(9):
        page = client.get(url).content.decode()
    assert page.index("紧急事项") < page.index("一般事项")
    overdue = client.get(url + "?overdue=1").content.decode()
    assert "逾期事项" in overdue and "一般事项" not in overdue
    demands = client.get(url + "?kind=demand").content.decode()
    assert "批量1" not in demands and "紧急事项" in demands
    with django_assert_max_num_queries(9):
        client.get(url + "?page=2&kind=wish")
    assert low.pk and urgent.pk


def test_milestone_of_another_item_is_refused(cast):
    deadline = timezone.localdate() + timedelta(days=9)
    first = fs.followup_track(actor=cast.yeshan.cadre, followup=_raise(cast), deadline=deadline)
    second = fs.followup_track(actor=cast.yeshan.cadre, followup=_raise(cast, title="另一件"), deadline=deadline)
    with unscoped():
        step = FollowUpMilestone.objects.filter(followup=first).first()
    with pytest.raises(ValidationError, match="办理节点不存在"):
        fs.milestone_done(actor=cast.yeshan.cadre, milestone=step.pk, followup=second)


def test_detail_page_query_count(cast, client, django_assert_max_num_queries):
    item = fs.followup_track(actor=cast.yeshan.cadre, followup=_raise(cast), deadline=timezone.localdate() + timedelta(days=9))
    for i in range(10):
        fs.followup_progress(actor=cast.yeshan.cadre, followup=item, note=f"进展{i}")
    client.force_login(cast.yeshan.cadre)
    with django_assert_max_num_queries(9):
        page = client.get(reverse("visits:followup_detail", args=[item.pk]))
    body = page.content.decode()
    assert "进展9" in body and "回访核实" in body and 'data-testid="actions"' in body


def test_demands_heard_on_a_visit_get_the_towns_deadline(cast):
    """A demand logged with the visit form has a deadline from the town's rule for an ordinary item."""
    import uuid
    from datetime import date

    import time_machine

    from tests.cast import at
    from visits.models import FollowUp, FollowUpRule
    from visits.services import visit_log

    FollowUpRule.objects.create(town=cast.yeshan.town, urgency=1, importance=None, days=10)
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        result = visit_log(
            actor=cast.yeshan.grid_worker,
            beneficiary=cast.yeshan.person,
            idempotency_key=uuid.uuid4(),
            visited_at=at(2024, 1, 9, 10),
            kind="home",
            visitor_ids=[],
            volunteers_count=0,
            demands=["屋顶漏雨"],
        )
    item = FollowUp.objects.get(pk=result.followups[0].pk)
    assert item.deadline == date(2024, 1, 19)


def _closed_on_the_board(cast):
    actor = cast.yeshan.cadre
    today = timezone.localdate()
    item = fs.followup_track(actor=actor, followup=_raise(cast), deadline=today + timedelta(days=30))
    with unscoped():
        first = FollowUpMilestone.objects.filter(followup=item).order_by("due_on").first()
    fs.milestone_done(actor=actor, milestone=first.pk, note="已交办村委")
    item = fs.followup_resolve(actor=actor, followup=item)
    item = fs.followup_revisit(actor=actor, followup=item, satisfaction="satisfied")
    return fs.followup_close(actor=actor, followup=item)


def test_closing_settles_the_open_milestones_and_says_so(cast):
    item = _closed_on_the_board(cast)
    with unscoped():
        steps = {m.title: (m.done_on, m.note) for m in FollowUpMilestone.objects.filter(followup=item)}
    today = timezone.localdate()
    assert steps == {
        "受理交办": (today, "已交办村委"),
        "办理落实": (today, fs.SETTLED_NOTE),
        "回访核实": (today, fs.SETTLED_NOTE),
    }
    assert _events(item)[-1].note == "销号（办理落实、回访核实随销号完成）"


def test_the_migration_settles_milestones_left_open_on_closed_items(cast):
    import importlib

    from django.apps import apps

    item = _closed_on_the_board(cast)
    with unscoped():
        # As items closed before the rule were: 回访核实 still open.
        FollowUpMilestone.objects.filter(followup=item, title="回访核实").update(done_on=None, note="")
        open_item = fs.followup_track(actor=cast.yeshan.cadre, followup=_raise(cast), deadline=item.closed_on + timedelta(days=9))
        importlib.import_module("visits.migrations.0007_settle_closed_followups_milestones").settle(apps, None)
        settled = FollowUpMilestone.objects.get(followup=item, title="回访核实")
        assert (settled.done_on, settled.note) == (item.closed_on, fs.SETTLED_NOTE)
        assert FollowUpMilestone.objects.filter(followup=open_item, done_on__isnull=True).count() == 3
