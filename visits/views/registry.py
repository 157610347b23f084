"""The registry's pages that show visit state (重点人群信息库 list with its campaign filters, the person
page with its timeline), served at their /towns/ paths (visits/registry_urls.py)."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from core import idnumbers
from core.decorators import permission_required
from towns import access_log, idchecks, selectors
from towns.filters import id_query
from towns.models import Beneficiary, PersonAccess
from visits import registry_selectors
from visits.targets import RULE_TEXT


def _id_redirect(request, params):
    """A whole ID number in the search box becomes its digest (or masked form) before the query
    reaches a URL: web server logs, browser history, export jobs and audit records never hold it."""
    params = params.copy()
    params.pop("csrfmiddlewaretoken", None)
    replaced = id_query(request.user, params.get("q", ""))
    if replaced is None:
        return None
    params.pop("q")
    for key in ("idd", "idm", "born", "after", "before"):
        params.pop(key, None)
    params.update(replaced)
    if not Beneficiary.objects.for_user(request.user).filter(**_id_lookup(replaced)).exists():
        # Nothing the user may see: the check is recorded (digest only) for the inspectors.
        idchecks.record_search_outside(request.user, idnumbers.search_digest(request.POST.get("q") or request.GET.get("q")))
    return redirect(f"{reverse('registry:person_list')}?{params.urlencode()}")


def _id_lookup(replaced: dict) -> dict:
    if "idd" in replaced:
        return {"id_number_digest": replaced["idd"]}
    return {"id_number_masked": replaced["idm"], "birth_date": replaced["born"]}


@permission_required("registry.view")
@require_http_methods(["GET", "HEAD", "POST"])
def person_list(request):
    if request.method == "POST":
        # The search form posts: a whole ID number must not travel in a URL.
        return _id_redirect(request, request.POST) or redirect(
            f"{reverse('registry:person_list')}?{_without_token(request.POST).urlencode()}"
        )
    if request.GET.get("q") and (found := _id_redirect(request, request.GET)) is not None:
        return found
    filterset, page = registry_selectors.registry_page(request.user, request.GET)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(
        request,
        "visits/person_list.html",
        {"filter": filterset, "page": page, "query": query.urlencode(), "target_rule": RULE_TEXT},
    )


def _without_token(params):
    params = params.copy()
    params.pop("csrfmiddlewaretoken", None)
    return params


@permission_required("registry.view")
@require_safe
def person_detail(request, pk):
    person = selectors.person(request.user, pk)
    access_log.note(request, PersonAccess.Kind.PERSON, [person])
    return render(
        request,
        "visits/person_detail.html",
        {
            "person": person,
            "members": person.household.members.exclude(pk=person.pk).only(
                "pk", "name", "relation_to_head", "status", "birth_date"
            ),
            "categories": list(person.categories.all()),
            "status_changes": list(person.status_changes.select_related("changed_by")),
            "timeline": registry_selectors.person_timeline(person),
        },
    )
