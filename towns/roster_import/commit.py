"""Writing a confirmed import: households, people, their categories and visit-due columns, and one
audit record per change, in the caller's transaction. Every step raises rather than half-writes.

The writes go in batches of BATCH rows, each with its own audit records appended to the town's
chain: the model instances and audit payloads of one batch are dropped before the next is built,
so the worker's memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.utils import timezone

from core import audit, bulk, idnumbers
from core.scoping import unscoped
from towns import visit_due
from towns.models import BENEFICIARY_AUDITED_FIELDS, Beneficiary, Household, RosterImport
from towns.pinyin import initials
from towns.roster_import.parse import norm
from towns.roster_import.rows import Analysis

# Rows per batch: the model instances and audit payloads of one batch are all that is held at once.
BATCH = 2000

# Two imports of one town at once would each check against a registry the other is changing.
_IMPORT_LOCK_CLASS = 72_410_102


def lock_town(town_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK_CLASS, town_id])


class AuditBuffer:
    """Audit entries appended to the chain a batch at a time (one append for a small import)."""

    def __init__(self, actor):
        self.actor = actor
        self.entries: list[dict] = []

    def add(self, entries: list[dict]) -> None:
        self.entries.extend(entries)
        if len(self.entries) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.entries:
            audit.record_many(actor=self.actor, entries=self.entries)
            self.entries = []


def write(result: Analysis, *, roster_import: RosterImport, actor, progress: Callable[[int], None]) -> None:
    """Bulk writes in the caller's transaction."""
    today = timezone.localdate()
    town_id = roster_import.town_id
    intervals = {c.pk: c.visit_interval_days for c in result.ref.categories.values()}
    log = AuditBuffer(actor)

    households = insert_households(result, town_id=town_id, log=log)
    progress(10)
    insert_people(result, households=households, town_id=town_id, today=today, intervals=intervals, log=log, progress=progress)
    progress(60)
    update_people(result, households=households, intervals=intervals, log=log)
    progress(80)
    summary = {
        "action": "beneficiary.import",
        "obj": roster_import,
        "after": {
            "file": roster_import.original_name,
            "created": len(result.creates),
            "updated": len(result.updates),
            "unchanged": result.unchanged,
            "households_created": len(result.new_households),
        },
    }
    log.add([summary])
    log.flush()
    progress(100)


def _batches(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_households(result: Analysis, *, town_id: int, log: AuditBuffer) -> dict[tuple[int, str], int]:
    """The new households; returns (cell id, normalised address) -> household id for every one."""
    households = dict(result.ref.households)
    for keys in _batches(list(result.new_households)):
        new = []
        for key in keys:
            h = result.new_households[key]
            new.append(
                Household(
                    town_id=town_id,
                    village_id=h["village_id"],
                    cell_id=h["cell_id"],
                    address=h["address"],
                    head_name=h["head_name"],
                    phone=h["phone"],
                )
            )
        bulk.insert(Household, new)
        households.update(zip(keys, (h.pk for h in new), strict=True))
        log.add([{"action": "household.create", "obj": h, "after": audit.snapshot(h)} for h in new])
    return households


def insert_people(result, *, households, town_id, today, intervals, log, progress) -> None:
    names: dict[str, str] = {}
    done = 0
    for rows in _batches(result.creates):
        people = []
        for row in rows:
            interval = min((intervals[c] for c in row.category_ids), default=None)
            id_number = row.id_number
            people.append(
                Beneficiary(
                    household_id=households[(row.cell_id, norm(row.address))],
                    town_id=town_id,
                    cell_id=row.cell_id,
                    name=row.name,
                    name_initials=names[row.name] if row.name in names else names.setdefault(row.name, initials(row.name)),
                    gender=id_number.gender,
                    birth_date=id_number.birth_date,
                    id_number_encrypted=idnumbers.encrypt(id_number.number),
                    id_number_digest=row.digest,
                    id_number_masked=id_number.masked,
                    phone=row.phone,
                    status=Beneficiary.Status.ACTIVE,
                    status_since=today,
                    registered_on=today,
                    notes=row.notes,
                    visit_interval_days=interval,
                    next_visit_due=visit_due.next_due(registered_on=today, last_visited_at=None, interval_days=interval),
                )
            )
        bulk.insert(Beneficiary, people)
        links = [(p.pk, c) for p, row in zip(people, rows, strict=True) for c in row.category_ids]
        bulk.insert_links(Beneficiary.categories.through, "beneficiary", "category", links)
        entries = []
        for person, row in zip(people, rows, strict=True):
            after = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
            after["categories"] = list(row.category_ids)
            entries.append({"action": "beneficiary.create", "obj": person, "after": after})
        log.add(entries)
        done += len(rows)
        progress(10 + done * 50 // max(len(result.creates), 1))


def update_people(result, *, households, intervals, log) -> None:
    for batch in _batches(result.updates):
        _update_batch(batch, households=households, intervals=intervals, log=log)


_UPDATED_FIELDS = [
    "name",
    "name_initials",
    "phone",
    "notes",
    "household",
    "cell",
    "visit_interval_days",
    "next_visit_due",
    "updated_at",
]


def _update_batch(updates, *, households, intervals, log) -> None:
    ids = [person_id for _, person_id, _ in updates]
    with unscoped():  # these rows were found and locked by classify(); all of the importing town
        people = {person.pk: person for person in Beneficiary.objects.filter(pk__in=ids)}
    old_categories: dict[int, list[int]] = {}
    through = Beneficiary.categories.through
    for person_id, category_id in through._base_manager.filter(beneficiary_id__in=ids).values_list(
        "beneficiary_id", "category_id"
    ):
        old_categories.setdefault(person_id, []).append(category_id)
    now = timezone.now()
    changed_categories = []
    entries = []
    for row, person_id, changes in updates:
        person = people[person_id]
        before = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
        before["categories"] = sorted(old_categories.get(person.pk, []))
        if "name" in changes:
            person.name, person.name_initials = row.name, initials(row.name)
        if "phone" in changes:
            person.phone = row.phone
        if "notes" in changes:
            person.notes = row.notes
        if "household" in changes:
            person.household_id = households[changes["household"]]
            person.cell_id = row.cell_id
        if "categories" in changes:
            changed_categories.append((person.pk, row.category_ids))
            person.visit_interval_days = min((intervals[c] for c in row.category_ids), default=None)
            person.next_visit_due = visit_due.next_due(
                registered_on=person.registered_on,
                last_visited_at=person.last_visited_at,
                interval_days=person.visit_interval_days,
            )
        person.updated_at = now
        after = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
        after["categories"] = sorted(row.category_ids) if "categories" in changes else before["categories"]
        entries.append({"action": "beneficiary.update", "obj": person, "before": before, "after": after})
    bulk.update(Beneficiary, list(people.values()), _UPDATED_FIELDS)
    if changed_categories:
        through._base_manager.filter(beneficiary_id__in=[pk for pk, _ in changed_categories]).delete()
        pairs = [(pk, c) for pk, category_ids in changed_categories for c in category_ids]
        bulk.insert_links(through, "beneficiary", "category", pairs)
    log.add(entries)
