"""County setup: the plan written in one transaction, audited, only when it has no problem; new
accounts get one-time passwords (returned once, kept nowhere)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.db import connection, transaction
from django.utils import timezone

from core import audit, permissions
from core.permissions import require
from core.scoping import unscoped
from towns.county_setup.layout import Plan
from towns.models import Assignment, Cadre, Category, GridCell, Town, Village

_LOCK = 72_410_116  # pg_advisory_xact_lock: one county setup at a time

_PASSWORD_ALPHABET = {
    "upper": "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "lower": "abcdefghijkmnpqrstuvwxyz",
    "digit": "23456789",
    "symbol": "@#%&*+=?",
}


def one_time_password(length: int = 12) -> str:
    """Random, of every character class, without look-alikes (0/O, 1/l/I) so it can be typed from paper."""
    pools = list(_PASSWORD_ALPHABET.values())
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# A new account's password is random (~70 bits) and must be changed at the first login, so the
# hash's work factor adds nothing against guessing it; at the full factor (~0.3 s each) a county's
# 3,000 accounts would take 15 minutes in one request. Django re-hashes at the full factor on login.
TEMPORARY_ITERATIONS = 10_000


def _temporary_hash(password: str) -> str:
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(password, hasher.salt(), iterations=TEMPORARY_ITERATIONS)
    return make_password(password)


class NotApplied(Exception):
    """The plan has problems: nothing was written."""


def apply(*, actor, plan: Plan, channel: str | None = None) -> list[dict]:
    """Write the plan (only when it has no problems). Returns the new accounts' one-time passwords:
    [{town, username, name, role, title, password}]; they are kept nowhere else."""
    if actor is not None:
        require(actor, "county.setup")
    if not plan.ok:
        raise NotApplied("；".join(str(p) for p in plan.problems[:5]))
    with transaction.atomic(), unscoped():
        return _apply(actor, plan, channel)


def _apply(actor, plan: Plan, channel) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
    entries: list[dict] = []

    def audited(action, obj, *, before=None, after=None, town=None):
        entries.append({"action": action, "obj": obj, "town": town, "before": before, "after": after, "channel": channel})

    parts = plan.parts
    towns = {t.code: t for t in Town._base_manager.all()}
    if "towns" in parts:
        part = parts["towns"]
        for existing, values in part.renamed + part.updated:
            before = {"name": existing.name, "kind": existing.kind}
            # A swap of two names would trip the unique index midway: park the old name first.
            Town._base_manager.filter(pk=existing.pk).update(name=f"~{existing.pk}~{existing.name}"[:50])
            existing.name, existing.kind = values["name"], values["kind"]
            audited(
                "county_setup.town_update",
                existing,
                before=before,
                after={"name": existing.name, "kind": existing.kind},
                town=existing.pk,
            )
        for existing, _ in part.renamed + part.updated:
            existing.save(update_fields=["name", "kind"])
        for values in part.new:
            town = Town._base_manager.create(code=values["code"], name=values["name"], kind=values["kind"])
            towns[town.code] = town
            audited(
                "county_setup.town_create", town, after={"code": town.code, "name": town.name, "kind": town.kind}, town=town.pk
            )
    villages = {v.code: v for v in Village._base_manager.select_related("town")}
    if "villages" in parts:
        part = parts["villages"]
        for existing, _values in part.renamed + part.updated:
            Village._base_manager.filter(pk=existing.pk).update(name=f"~{existing.pk}~{existing.name}"[:50])
        for existing, values in part.renamed + part.updated:
            before = {"name": existing.name, "kind": existing.kind, "town": existing.town.name}
            existing.name, existing.kind, existing.town = values["name"], values["kind"], towns[values["town"]]
            existing.save(update_fields=["name", "kind", "town"])
            audited(
                "county_setup.village_update",
                existing,
                before=before,
                after={"name": existing.name, "kind": existing.kind, "town": existing.town.name},
                town=existing.town_id,
            )
        for values in part.new:
            village = Village._base_manager.create(
                code=values["code"], name=values["name"], kind=values["kind"], town=towns[values["town"]]
            )
            villages[village.code] = village
            audited(
                "county_setup.village_create",
                village,
                after={"code": village.code, "name": village.name, "town": village.town.name},
                town=village.town_id,
            )
    cells = {(c.town.code, c.code): c for c in GridCell._base_manager.select_related("town", "village", "parent")}
    if "cells" in parts:
        part = parts["cells"]
        # Big cells first: a small one needs its parent.
        for values in sorted(part.new, key=lambda v: v["level"] != GridCell.Level.BIG):
            town = towns[values["town"]]
            cell = GridCell(
                town=town,
                code=values["code"],
                name=values["name"],
                level=values["level"],
                village=villages[values["village"]],
                parent=cells[(values["town"], values["parent"])] if values["parent"] else None,
            )
            cell.save()
            cells[(values["town"], values["code"])] = cell
            audited(
                "county_setup.cell_create",
                cell,
                after={"code": cell.code, "name": cell.name, "level": cell.level, "village": cell.village.name},
                town=town.pk,
            )
        for existing, values in part.renamed + part.updated:
            before = {
                "name": existing.name,
                "village": existing.village.name if existing.village_id else "",
                "parent": existing.parent.code if existing.parent_id else "",
            }
            existing.name = values["name"]
            existing.village = villages[values["village"]]
            existing.parent = cells[(values["town"], values["parent"])] if values["parent"] else None
            existing.save(update_fields=["name", "village", "parent"])
            audited(
                "county_setup.cell_update",
                existing,
                before=before,
                after={"name": existing.name, "village": existing.village.name, "parent": values["parent"] or ""},
                town=existing.town_id,
            )
    if "categories" in parts:
        part = parts["categories"]
        fields = ("name", "visit_interval_days", "standard", "sensitive")
        for existing, _values in part.renamed + part.updated:
            Category.objects.filter(pk=existing.pk).update(name=f"~{existing.pk}~{existing.name}"[:30])
        for existing, values in part.renamed + part.updated:
            before = audit.snapshot(existing, list(fields))
            for f in fields:
                setattr(existing, f, values[f])
            existing.save(update_fields=list(fields))
            audited("county_setup.category_update", existing, before=before, after=audit.snapshot(existing, list(fields)))
        order = Category.objects.count()
        for values in part.new:
            order += 1
            category = Category.objects.create(code=values["code"], sort_order=order, **{f: values[f] for f in fields})
            audited("county_setup.category_create", category, after=audit.snapshot(category, ["code", *fields]))
    passwords: list[dict] = []
    if "cadres" in parts:
        part = parts["cadres"]
        User = get_user_model()
        for existing, values in part.renamed + part.updated:
            before = {
                "name": existing.name,
                "role": existing.role,
                "town": existing.town.name if existing.town_id else "",
                "title": existing.title,
            }
            existing.name, existing.role, existing.title, existing.phone = (
                values["name"],
                values["role"],
                values["title"],
                values["phone"],
            )
            existing.town = towns[values["town"]] if values["town"] else None
            existing.save(update_fields=["name", "role", "town", "title", "phone"])
            User._default_manager.filter(pk=existing.user_id).update(is_staff=values["role"] == permissions.SYSADMIN)
            audited(
                "county_setup.cadre_update",
                existing,
                before=before,
                after={
                    "name": existing.name,
                    "role": existing.role,
                    "town": existing.town.name if existing.town_id else "",
                    "title": existing.title,
                },
                town=existing.town_id,
            )
        for values in part.new:
            password = one_time_password()
            user = User(username=values["username"], is_staff=values["role"] == permissions.SYSADMIN)
            user.password = _temporary_hash(password)
            user.save()
            town = towns[values["town"]] if values["town"] else None
            cadre = Cadre._base_manager.create(
                user=user,
                name=values["name"],
                role=values["role"],
                town=town,
                title=values["title"],
                phone=values["phone"],
                password_temporary=True,
            )
            passwords.append(
                {
                    "town": town.name if town else "县级",
                    "town_code": town.code if town else "",
                    "username": user.username,
                    "name": cadre.name,
                    "role": cadre.get_role_display(),
                    "title": cadre.title,
                    "password": password,
                }
            )
            audited(
                "county_setup.cadre_create",
                cadre,
                after={"username": user.username, "name": cadre.name, "role": cadre.role, "town": town.name if town else ""},
                town=cadre.town_id,
            )
    if plan.assignments:
        cadres = {
            c.user.get_username(): c
            for c in Cadre._base_manager.select_related("user").filter(user__username__in={a[0] for a in plan.assignments})
        }
        today = timezone.localdate()
        for username, town_code, cell_code in plan.assignments:
            cadre, cell = cadres[username], cells[(town_code, cell_code)]
            assignment = Assignment._base_manager.create(cadre=cadre, town=cell.town, cell=cell, starts_on=today)
            audited(
                "county_setup.assignment_create", assignment, after={"cadre": cadre.name, "cell": cell.name}, town=cell.town_id
            )
    audited("county_setup.run", None, after={"summary": plan.summary(), "accounts_created": len(passwords)})
    entries[-1].update(object_type="county_setup", object_repr="全县基础数据导入")
    audit.record_many(actor=actor, entries=entries)
    passwords.sort(key=lambda p: (p["town_code"] or "~", p["username"]))
    return passwords
