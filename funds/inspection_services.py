"""Writes of the inspection room: cadres' conflict-of-interest declarations (亲属申报) and inspectors'
findings on flags (issue 5 §3, §5)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, idnumbers, outbox
from core.permissions import require
from core.scoping import unscoped
from core.services import actor_profile, in_scope
from funds.models import ConflictDeclaration, DeclaredRelative, Finding, InspectionFlag
from towns.cadres import cadre_of

DECLARATION_RELATIONS = ("配偶", "父母", "子女", "兄弟姐妹", "配偶父母", "子女配偶", "其他近亲属")
MAX_DECLARED_RELATIVES = 20


@transaction.atomic
def declaration_submit(*, actor, relatives: list[dict], nothing_to_declare: bool):
    """A cadre's 亲属申报, replacing the previous list. ID numbers are stored encrypted with an HMAC to match
    (like any registry ID); the audit record holds masked numbers only."""
    require(actor, "coi.declare")
    cadre = actor_profile(actor)
    errors: dict[str, list[str]] = {}
    cleaned, seen = [], set()
    for number, row in enumerate(relatives, start=1):
        name = (row.get("name") or "").strip()
        relation = (row.get("relation") or "").strip()
        raw = (row.get("id_number") or "").strip()
        if not (name or relation or raw):
            continue  # an empty row of the form
        if not name or len(name) > 30:
            errors.setdefault(f"relatives-{number}-name", []).append(f"第{number}行：请填写姓名（30字以内）")
        if relation not in DECLARATION_RELATIONS:
            errors.setdefault(f"relatives-{number}-relation", []).append(f"第{number}行：请选择关系")
        try:
            parsed = idnumbers.parse(raw)
        except ValidationError as error:
            errors.setdefault(f"relatives-{number}-id_number", []).append(f"第{number}行 身份证号：{error.messages[0]}")
            continue
        if parsed.number in seen:
            errors.setdefault(f"relatives-{number}-id_number", []).append(f"第{number}行：身份证号与前面的行重复")
            continue
        seen.add(parsed.number)
        cleaned.append((name, relation, parsed))
    if nothing_to_declare and cleaned:
        errors.setdefault("nothing_to_declare", []).append("已勾选“无需申报的近亲属”，就不能再填写亲属")
    if not nothing_to_declare and not cleaned and not errors:
        errors.setdefault("__all__", []).append("请填写近亲属，或勾选“无需申报的近亲属”")
    if len(cleaned) > MAX_DECLARED_RELATIVES:
        errors.setdefault("__all__", []).append(f"最多申报{MAX_DECLARED_RELATIVES}名近亲属")
    if errors:
        raise ValidationError(errors)
    with unscoped():  # the cadre's own declaration, whatever their scope (a grid worker's cells say nothing of it)
        declaration = ConflictDeclaration.objects.select_for_update().filter(cadre=cadre).first()
        before = None
        if declaration is not None:
            before = {
                "nothing_to_declare": declaration.nothing_to_declare,
                "relatives": list(declaration.relatives.values("name", "relation", "id_number_masked")),
            }
            declaration.relatives.all().delete()
            declaration.nothing_to_declare = nothing_to_declare
            declaration.declared_at = timezone.now()
            declaration.town_id = cadre.town_id
            declaration.save(update_fields=["nothing_to_declare", "declared_at", "town"])
        else:
            declaration = ConflictDeclaration.objects.create(
                cadre=cadre, town_id=cadre.town_id, declared_at=timezone.now(), nothing_to_declare=nothing_to_declare
            )
        DeclaredRelative.objects.bulk_create(
            [
                DeclaredRelative(
                    declaration=declaration,
                    name=name,
                    relation=relation,
                    id_number_encrypted=idnumbers.encrypt(parsed.number),
                    id_number_digest=idnumbers.digest(parsed.number),
                    id_number_masked=parsed.masked,
                )
                for name, relation, parsed in cleaned
            ]
        )
    audit.record(
        actor=actor,
        action="declaration.submit",
        obj=declaration,
        town=cadre.town_id,
        before=before,
        after={
            "nothing_to_declare": nothing_to_declare,
            "relatives": [{"name": n, "relation": r, "id_number_masked": p.masked} for n, r, p in cleaned],
        },
    )
    return declaration


@transaction.atomic
def finding_record(*, actor, flag, verdict: str, notes: str):
    """An inspector's finding on a flag (核实中 / 属实 / 排除); the newest is the flag's verdict."""
    require(actor, "inspection.review")
    flag = in_scope(InspectionFlag, actor, flag, "flag", "预警")
    errors = {}
    if verdict not in Finding.Verdict.values:
        errors["verdict"] = ["请选择核查结论"]
    notes = (notes or "").strip()
    if not notes:
        errors["notes"] = ["请填写核查情况"]
    elif len(notes) > 2000:
        errors["notes"] = ["核查情况请控制在2000字以内"]
    if errors:
        raise ValidationError(errors)
    finding = Finding.objects.create(flag=flag, verdict=verdict, notes=notes, inspector=actor_profile(actor))
    audit.record(
        actor=actor,
        action="finding.create",
        obj=finding,
        town=flag.town_id,
        object_repr=f"{flag.title} #{flag.pk}：{finding.get_verdict_display()}",
        after={"flag": flag.pk, "rule": flag.rule, "verdict": verdict, "notes": notes},
    )
    return finding


def inspection_rerun(*, actor) -> None:
    """重新计算: queue the county-wide run once the caller's work is committed (eager in the demo and tests)."""
    require(actor, "inspection.review")
    outbox.run_task("funds.tasks.run_inspection_task", actor_id=actor.pk)


@transaction.atomic
def roster_viewed(*, actor, people: int, filters: dict) -> None:
    """A roster on screen or paper shows names and categories: who looked at which rows is recorded."""
    require(actor, "roster.view")
    cadre = cadre_of(actor)
    town = cadre.town_id if cadre and cadre.town_id else None
    audit.record_personal_data_access(actor=actor, what="发放花名册", count=people, town=town, filters=filters)
