"""Follow-ups (issue 6 §1): the list of a scope, raising one, its page and its actions.

Everyone signed in reads the follow-ups of their scope; followup.edit holders raise and work them.
The actions post to one endpoint with an ``action`` field; the services decide what is allowed.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Value, When
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404
from core.services import add_service_errors
from towns.dates import cn_date
from towns.models import Beneficiary, PartyBranch, Village
from visits import followup_services as fs
from visits.filters import FOLLOWUP_OPEN, FollowUpFilter
from visits.followup_forms import FollowUpRaiseForm
from visits.models import FollowUp

PAGE_SIZE = 30
OPEN = FOLLOWUP_OPEN


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def followups_for(user, params):
    """The list's rows: the user's scope, filtered (FollowUpFilter, shared with the 问题清单 export),
    the most pressing first, then the nearest deadline."""
    qs = FollowUp.objects.for_user(user).select_related("village", "beneficiary", "owner")
    qs = FollowUpFilter(params or None, queryset=qs, user=user).qs
    # Open items first; among them urgency, importance, then the nearest deadline (倒排).
    closed_last = Case(When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.order_by(closed_last, "-urgency", "-importance", F("deadline").asc(nulls_last=True), "id")


@login_required
@require_safe
def followup_list(request):
    user = request.user
    page = Paginator(followups_for(user, request.GET), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "visits/followup_list.html",
        {
            "page": page,
            "query": params.urlencode(),
            "params": request.GET,
            "kinds": FollowUp.Kind.choices,
            "statuses": FollowUp.Status.choices,
            "villages": Village.objects.for_user(user).order_by("name").only("id", "name"),
            "owners": fs.owner_choices(user).only("id", "name", "role", "title"),
            "today": timezone.localdate(),
        },
    )


@permission_required("followup.edit")
@require_http_methods(["GET", "POST"])
def followup_create(request):
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    person = None
    if pk := _int(data.get("beneficiary")):
        # Another town's person named in the link or the form is a 404, as on the visit log.
        person = get_for_user_or_404(Beneficiary.objects.select_related("household__village"), user, pk=pk)
    if request.method == "POST":
        form = FollowUpRaiseForm(user, request.POST)
        if form.is_valid():
            try:
                item = fs.followup_raise(actor=user, **form.service_kwargs())
            except ValidationError as error:
                add_service_errors(form, error, hidden=("beneficiary",))
            else:
                messages.success(request, f"已登记“{item.title}”，办结时限 {cn_date(item.deadline)}。")
                if FollowUp.objects.for_user(user).filter(pk=item.pk).exists():
                    return redirect("visits:followup_detail", pk=item.pk)
                # A grid worker's village-wide item belongs to no cell of theirs: the town works it.
                return redirect("visits:followup_list")
    else:
        initial = {"beneficiary": person.pk if person else None, "kind": data.get("kind") or FollowUp.Kind.DEMAND}
        form = FollowUpRaiseForm(user, initial=initial)
    return render(request, "visits/followup_form.html", {"form": form, "person": person})


@login_required
@require_safe
def followup_detail(request, pk):
    user = request.user
    item = get_for_user_or_404(
        FollowUp.objects.select_related("town", "village", "beneficiary", "owner", "raised_by", "claimed_by_branch"), user, pk=pk
    )
    editable = can(user, "followup.edit")
    return render(
        request,
        "visits/followup_detail.html",
        {
            "item": item,
            "events": list(item.events.select_related("actor")),
            "milestones": list(item.milestones.all()),
            "editable": editable,
            "owners": list(fs.owner_choices(user).only("id", "name", "role", "title")) if editable else [],
            "branches": list(PartyBranch.objects.for_user(user).filter(town_id=item.town_id).only("id", "name"))
            if editable and item.kind == FollowUp.Kind.WISH
            else [],
            "satisfactions": FollowUp.Satisfaction.choices,
            "today": timezone.localdate(),
            "overdue": item.deadline
            and item.deadline < timezone.localdate()
            and item.status in (FollowUp.Status.PENDING, FollowUp.Status.IN_PROGRESS),
        },
    )


def _milestones(post) -> list[tuple[str, date | None]]:
    """Milestones typed on the 挂图作战 form (rows of title + date); empty rows are skipped."""
    titles, dates = post.getlist("milestone_title"), post.getlist("milestone_due")
    return [(t, parse_date(d or "") if d else None) for t, d in zip(titles, dates, strict=False) if (t or "").strip() or d]


_DONE = {
    "accept": "已受理",
    "resolve_at_once": "已当场解决",
    "track": "已挂图作战",
    "milestone_done": "节点已完成",
    "progress": "已记录进展",
    "reassign": "已改派",
    "resolve": "已办结",
    "revisit": "已记录回访",
    "close": "已销号",
    "reject": "已不予受理",
    "wish_claim": "已认领",
    "wish_fulfil": "已登记兑现",
}


@permission_required("followup.edit")
@require_POST
def followup_act(request, pk):
    user = request.user
    item = get_for_user_or_404(FollowUp, user, pk=pk)
    post = request.POST
    action = post.get("action", "")
    note = post.get("note", "")
    calls = {
        "accept": lambda: fs.followup_accept(
            actor=user, followup=item, owner=_int(post.get("owner")), owner_department=post.get("owner_department", ""), note=note
        ),
        "resolve_at_once": lambda: fs.followup_resolve_at_once(actor=user, followup=item, note=note),
        "track": lambda: fs.followup_track(
            actor=user, followup=item, deadline=parse_date(post.get("deadline") or ""), milestones=_milestones(post), note=note
        ),
        "milestone_done": lambda: fs.milestone_done(actor=user, milestone=_int(post.get("milestone")), followup=item, note=note),
        "progress": lambda: fs.followup_progress(actor=user, followup=item, note=note),
        "reassign": lambda: fs.followup_reassign(
            actor=user,
            followup=item,
            owner=_int(post.get("owner")),
            owner_department=post.get("owner_department", ""),
            reason=post.get("reason", ""),
        ),
        "resolve": lambda: fs.followup_resolve(actor=user, followup=item, note=note),
        "revisit": lambda: fs.followup_revisit(actor=user, followup=item, satisfaction=post.get("satisfaction", ""), note=note),
        "close": lambda: fs.followup_close(actor=user, followup=item, note=note),
        "reject": lambda: fs.followup_reject(actor=user, followup=item, reason=post.get("reason", "")),
        "wish_claim": lambda: fs.wish_claim(
            actor=user, followup=item, name=post.get("name", ""), branch=_int(post.get("branch"))
        ),
        "wish_fulfil": lambda: fs.wish_fulfil(actor=user, followup=item, note=note),
    }
    if action not in calls:
        messages.error(request, "未知的操作")
    else:
        try:
            calls[action]()
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _DONE[action])
    return redirect("visits:followup_detail", pk=item.pk)
