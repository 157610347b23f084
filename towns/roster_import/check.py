"""The checked rows against the registry: new, updated or unchanged, matched by what the user may
know of ID numbers (towns/idchecks.py). Reads only; the commit locks the rows it may update."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from core import audit
from towns import idchecks
from towns.models import Beneficiary
from towns.roster_import.parse import Header, Sheet, find_header, norm
from towns.roster_import.rows import Analysis, Reference, Row, parse_rows

# People looked up per query, and rows classified per round: the matched people of one round
# are dropped before the next, so a file updating 100,000 people never holds them all.
BATCH = 5000

_EXISTING_FIELDS = (
    "id",
    "town_id",
    "status",
    "name",
    "phone",
    "notes",
    "household_id",
    "cell_id",
    "household__address",
    "registered_on",
    "last_visited_at",
    "visit_interval_days",
    "id_number_digest",
    "id_number_masked",
    "birth_date",
)

# A file whose rows mostly point to people under a different number is a probe, not a roster.
PROBE_MIN_ROWS = 3


def _own_people(actor, ref: Reference, rows: list[Row], *, reveal: bool, lock: bool) -> dict:
    """The importing town's people (any status) the rows may point to, keyed as the actor may know them:
    by digest for a user who may reveal ID numbers, else by masked number + birth date."""
    field_name = "id_number_digest" if reveal else "id_number_masked"
    values = sorted({row.digest if reveal else row.id_number.masked for row in rows})
    found: dict = {}
    for start in range(0, len(values), 5000):
        qs = Beneficiary.objects.for_user(actor).filter(
            town_id=ref.town_id, **{f"{field_name}__in": values[start : start + 5000]}
        )
        if lock:
            # Rows we may update stay as read until commit: no edit in between is overwritten.
            qs = qs.select_for_update(of=("self",))
        for person in qs.order_by("id").values(*_EXISTING_FIELDS):
            key = person["id_number_digest"] if reveal else idchecks.visible_key(person["id_number_masked"], person["birth_date"])
            found.setdefault(key, []).append(person)
    return found


def classify(result: Analysis, ref: Reference, header: Header, *, actor, lock: bool = False) -> None:
    """Sort valid rows into create / update / unchanged against the importing town's people.

    What a row is matched by depends on what the user may know (towns/idchecks.py): a user who
    may not reveal ID numbers gets the same answer for every number with the same masked form and
    birth date, so a file cannot tell which of the candidate numbers is on record. A row matching
    nobody in the town is checked county-wide; "registered elsewhere" is all it is told.
    """
    reveal = idchecks.may_reveal(actor)
    kept, new_rows = [], []
    taken: dict[int, int] = {}  # person id -> the row that matched them first
    mismatched = 0
    for start in range(0, len(result.rows), BATCH):
        mismatched += _classify_batch(
            result,
            ref,
            header,
            result.rows[start : start + BATCH],
            actor=actor,
            reveal=reveal,
            lock=lock,
            kept=kept,
            new_rows=new_rows,
            taken=taken,
        )
    _classify_new(
        result, ref, header, new_rows, actor=actor, kept=kept, audit_probe=mismatched and not lock and (mismatched, len(taken))
    )
    kept.sort(key=lambda row: row.number)
    result.rows = kept


def _classify_batch(result, ref, header, rows, *, actor, reveal, lock, kept, new_rows, taken) -> int:
    """One round of rows against the people they may point to; returns how many matched a person
    whose number differs (a user who may not reveal numbers matches by masked number)."""
    own = _own_people(actor, ref, rows, reveal=reveal, lock=lock)

    def key_of(row):
        if reveal:
            return row.digest
        id_number = row.id_number
        return idchecks.visible_key(id_number.masked, id_number.birth_date)

    matched_ids = [p["id"] for people in own.values() for p in people if p["status"] == "active"]
    categories: dict[int, set[int]] = {}
    through = Beneficiary.categories.through
    if matched_ids:
        for person_id, category_id in through.objects.filter(beneficiary_id__in=matched_ids).values_list(
            "beneficiary_id", "category_id"
        ):
            categories.setdefault(person_id, set()).add(category_id)

    id_label = header.column_label("id_number")
    mismatched = 0
    for row in rows:
        people = own.get(key_of(row), [])
        actives = [p for p in people if p["status"] == "active"]
        masked = row.id_number.masked
        if not reveal and actives:
            # Matched by masked number and birth date, which two people of a town share now and
            # then (~1 in 100 of those born the same day): the name decides, and a different name
            # is never taken for a rename, or a new person would overwrite someone else.
            same_name = [p for p in actives if p["name"] == row.name]
            if not same_name:
                names = "、".join(p["name"] for p in actives)
                result.error(
                    row.number,
                    header.column_label("name"),
                    row.name,
                    f"本镇在册人员{names}的身份证号（{masked}）和出生日期与此相同但姓名不同：如是同一人改名，请在信息库中修改；"
                    "如是不同的人，请由镇管理员导入",
                )
                continue
            actives = same_name
        if len(actives) > 1:
            result.error(
                row.number,
                id_label,
                masked,
                f"本镇有{len(actives)}名在册人员的身份证号（{masked}）和出生日期与此相同，无法确定是哪一位，请在信息库中逐一修改",
            )
            continue
        if not actives:
            gone = people[0] if people else None
            if gone is not None:
                label = Beneficiary.Status(gone["status"]).label
                result.error(row.number, id_label, masked, f"该人员在本镇信息库中的状态为“{label}”，如需恢复在册请在信息库中办理")
                continue
            new_rows.append(row)
            continue
        active = actives[0]
        if active["id"] in taken:
            result.error(row.number, id_label, masked, f"与第{taken[active['id']]}行对应本镇同一名在册人员，同一人只能出现一次")
            continue
        taken[active["id"]] = row.number
        if active["id_number_digest"] != row.digest:
            mismatched += 1  # the person is updated all the same: saying otherwise would confirm the number
        changes = _changes(row, active, categories.get(active["id"], set()))
        address = row.address or active["household__address"]
        if row.cell_id != active["cell_id"] or norm(address) != norm(active["household__address"]):
            changes["household"] = _household_key(row, result, ref, address)
        if changes:
            result.updates.append((row, active["id"], changes))
            _mark(result, row, "update", [_CHANGE_LABELS[k] for k in changes])
        else:
            result.unchanged += 1
            _mark(result, row, "same")
        kept.append(row)
    return mismatched


def _changes(row: Row, active: dict, categories: set[int]) -> dict:
    changes = {}
    if row.name != active["name"]:
        changes["name"] = row.name
    if row.phone and row.phone != active["phone"]:
        changes["phone"] = row.phone
    if row.notes and row.notes != active["notes"]:
        changes["notes"] = row.notes
    if set(row.category_ids) != categories:
        changes["categories"] = row.category_ids
    return changes


def _classify_new(result, ref, header, new_rows, *, actor, kept, audit_probe) -> None:
    """Rows that match nobody in the town: is the number registered somewhere the user cannot see?"""
    id_label = header.column_label("id_number")
    limited = idchecks.refuse_new_while_limited(actor) is not None
    with transaction.atomic():  # the answers are audited; the job has no transaction of its own
        found = idchecks.registered_outside(actor, [row.digest for row in new_rows]) if new_rows else {}
        answers = idchecks.answer_outside(actor, found, where="roster_import")
        if audit_probe:
            mismatched, matched = audit_probe
            audit.record(
                actor=actor,
                action=idchecks.ACTION_MISMATCH,
                town=ref.town_id,
                object_type="id_check",
                object_repr=f"导入文件中 {mismatched} 行身份证号与在册人员不一致",
                after={
                    "rows": result.total_rows,
                    "matched": matched,
                    "mismatched": mismatched,
                    "probe": mismatched >= PROBE_MIN_ROWS and mismatched * 2 >= matched,
                },
            )
    limited = limited or any(answer.limited for answer in answers.values())
    for row in new_rows:
        answer = answers.get(row.digest)
        if answer is not None and not answer.limited:
            result.error(row.number, id_label, row.id_number.masked, answer.message)
            continue
        if limited:
            # Past the day's limit, every new number is refused alike: the limit tells nothing.
            result.error(row.number, id_label, row.id_number.masked, idchecks.LIMITED)
            continue
        if not row.address:
            result.error(row.number, header.column_label("address"), "", "新增人员须填写住址（用于建立或匹配户）")
            continue
        _household_key(row, result, ref, row.address)
        result.creates.append(row)
        _mark(result, row, "new")
        kept.append(row)


_CHANGE_LABELS = {"name": "姓名", "phone": "电话", "notes": "备注", "categories": "人员类别", "household": "户（网格、住址）"}


def _mark(result: Analysis, row: Row, status: str, fields=()) -> None:
    entry = result.preview.get(row.number)
    if entry is not None:
        entry["status"] = status
        if fields:
            entry["fields"] = list(fields)


def _household_key(row: Row, result: Analysis, ref: Reference, address: str) -> tuple[int, str]:
    """The household a row lives in: an existing one of that cell with that address, or a new one."""
    key = (row.cell_id, norm(address))
    if key not in ref.households and key not in result.new_households:
        result.new_households[key] = {
            "cell_id": row.cell_id,
            "village_id": row.village_id,
            "address": address,
            "head_name": row.name,
            "phone": row.phone,
        }
    return key


def analyse(sheet: Sheet, *, actor, town_id: int, progress: Callable[[int], None], lock: bool = False) -> Analysis:
    result = Analysis()
    header, problem = find_header(sheet.top)
    if header is None:
        if len(sheet.names) > 1:
            problem += f"。本工作簿有 {len(sheet.names)} 个工作表，现在读取的是“{sheet.title}”，可选择其他工作表重新校验"
        result.error(None, "表头", "", problem)
        return result
    ref = Reference.load(actor, town_id)
    parse_rows(sheet, header, ref, result, lambda pct: progress(pct * 8 // 10))
    classify(result, ref, header, actor=actor, lock=lock)
    result.errors.sort(key=lambda e: e["row"] or 0)
    for entry in result.preview.values():
        if entry["status"] == "ok":  # checked, then matched nobody (its error is on the row)
            entry["status"] = "error"
    result.header = header
    result.ref = ref
    progress(100)
    return result
