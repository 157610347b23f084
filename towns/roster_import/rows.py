"""Every data row of a roster normalised and checked in one pass, against the importing town's
villages, cells and categories and its own aliases for them (towns/name_aliases.py).

Every row is checked in full whatever is wrong with it: a formula, an unknown village or a bad ID
number is one problem of its row, and the row's other columns are still read. Unknown names are
grouped for the cadre to map once, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from openpyxl.utils import get_column_letter

from core import idnumbers
from core.phones import normalize_phone
from towns import name_aliases
from towns.models import Category, GridCell, Household, NameAlias, Village
from towns.roster_import.parse import (
    CATEGORY_SPLIT,
    FORMULA_MESSAGE,
    FULLWIDTH_DIGITS,
    GENDERS,
    LABELS,
    LOST_DIGITS,
    MAX_ROWS,
    PROGRESS_EVERY,
    SPACES,
    Header,
    Sheet,
    clean_name,
    display_value,
    first_text,
    id_text,
    is_formula,
    is_note_row,
    is_total,
    norm,
    text_of,
)

# Rows kept for the per-row preview (the page and the database hold these); the counts, the
# errors and the error workbook cover every row.
PREVIEW_LIMIT = 5000


@dataclass(slots=True)
class Row:
    """A valid row as it will be stored (slots: 100,000 of them stay small)."""

    number: int
    name: str
    number_text: str  # the 18-character ID number; IdNumber is built when asked (100,000 of them are not kept)
    digest: str
    phone: str
    village_id: int
    cell_id: int
    category_ids: tuple[int, ...]
    address: str
    notes: str

    @property
    def id_number(self) -> idnumbers.IdNumber:
        return idnumbers.IdNumber(self.number_text)


@dataclass
class Reference:
    """The importing town's villages, small cells, households, the categories and the town's own
    aliases for them (towns/name_aliases.py), looked up once."""

    town_id: int
    villages: dict[str, Village]
    cells: dict[int, dict[str, GridCell]]  # village id -> name/code -> small cell
    big_cells: dict[int, set[str]]
    categories: dict[str, Category]
    households: dict[tuple[int, str], int]  # (cell id, normalised address) -> household id
    village_aliases: dict[str, Village] = field(default_factory=dict)
    cell_aliases: dict[tuple[int, str], GridCell] = field(default_factory=dict)
    category_aliases: dict[str, Category] = field(default_factory=dict)
    small_cells: dict[int, list[GridCell]] = field(default_factory=dict)  # village id -> its small cells
    _likely: dict[str, Village | None] = field(default_factory=dict)

    @classmethod
    def load(cls, actor, town_id: int) -> Reference:
        villages = {}
        by_id = {}
        for village in Village.objects.for_user(actor).filter(town_id=town_id):
            villages[norm(village.name)] = village
            by_id[village.pk] = village
        cells: dict[int, dict[str, GridCell]] = {}
        small: dict[int, list[GridCell]] = {}
        big: dict[int, set[str]] = {}
        cell_by_id = {}
        for cell in GridCell.objects.for_user(actor).filter(town_id=town_id, village__isnull=False).order_by("code"):
            if cell.level == GridCell.Level.SMALL:
                names = cells.setdefault(cell.village_id, {})
                names.setdefault(norm(cell.name), cell)
                names.setdefault(norm(cell.code), cell)
                small.setdefault(cell.village_id, []).append(cell)
                cell_by_id[cell.pk] = cell
            else:
                big.setdefault(cell.village_id, set()).update({norm(cell.name), norm(cell.code)})
        households = {}
        for pk, cell_id, address in (
            Household.objects.for_user(actor).filter(town_id=town_id).order_by("id").values_list("id", "cell_id", "address")
        ):
            households.setdefault((cell_id, norm(address)), pk)
        categories = {}
        category_by_id = {}
        for category in Category.objects.all():
            categories[norm(category.name)] = category
            categories.setdefault(category.code.lower(), category)
            category_by_id[category.pk] = category
        ref = cls(town_id, villages, cells, big, categories, households, small_cells=small)
        for alias in NameAlias.objects.for_user(actor).filter(town_id=town_id):
            if alias.kind == NameAlias.Kind.VILLAGE and alias.village_id in by_id:
                ref.village_aliases[alias.key] = by_id[alias.village_id]
            elif alias.kind == NameAlias.Kind.CELL and alias.cell_id in cell_by_id:
                ref.cell_aliases[(alias.in_village_id, alias.key)] = cell_by_id[alias.cell_id]
            elif alias.kind == NameAlias.Kind.CATEGORY and alias.category_id in category_by_id:
                ref.category_aliases[alias.key] = category_by_id[alias.category_id]
        return ref

    def village(self, text: str) -> Village | None:
        key = norm(text)
        return (
            self.villages.get(key)
            or self.village_aliases.get(key)
            or self.villages.get(key + "村")
            or self.villages.get(key + "社区")
        )

    def cell(self, village: Village, text: str) -> GridCell | None:
        names = self.cells.get(village.pk, {})
        key = norm(text)
        return names.get(key) or names.get(norm(village.name) + key) or self.cell_aliases.get((village.pk, key))

    def likely_village(self, text: str) -> Village | None:
        """The one plausible village for an unknown name (towns/name_aliases.py), or None."""
        key = norm(text)
        if key not in self._likely:
            found = name_aliases.suggest_village(text, list({v.pk: v for v in self.villages.values()}.values()))
            self._likely[key] = found[0] if len(found) == 1 else None
        return self._likely[key]

    def category(self, text: str) -> Category | None:
        key = norm(text)
        return self.categories.get(key) or self.categories.get(text.lower()) or self.category_aliases.get(key)


@dataclass
class Analysis:
    total_rows: int = 0
    rows: list[Row] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    creates: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, dict, dict]] = field(default_factory=list)  # (row, existing, changes)
    unchanged: int = 0
    new_households: dict[tuple[int, str], dict] = field(default_factory=dict)
    header: Header | None = None
    ref: Reference | None = None
    skipped: list[dict] = field(default_factory=list)  # [{row, text}] totals and footnotes
    unknown: dict[tuple, dict] = field(default_factory=dict)  # (kind, village id, key) -> the name, its rows
    preview: dict[int, dict] = field(default_factory=dict)  # row number -> {row, name, status, changes, ...}
    pending_row: int = 0  # the last row with a name still to map (rows past the preview have no entry)

    def error(self, number: int | None, column: str, value, message: str):
        self.errors.append({"row": number, "column": column, "value": value, "message": message})
        if number in self.preview:
            self.preview[number]["status"] = "error"

    def unknown_name(self, kind: str, text: str, number: int, village: Village | None = None):
        entry = self.unknown.setdefault(
            (kind, village.pk if village else None, norm(text)),
            {
                "kind": kind,
                "name": text,
                "village_id": village.pk if village else None,
                "village": village.name if village else "",
                "rows": 0,
                "first_row": number,
            },
        )
        entry["rows"] += 1
        self.pending_row = number
        if number in self.preview and self.preview[number]["status"] != "error":
            self.preview[number]["status"] = "pending"

    def unknown_names(self) -> list[dict]:
        """The names to map, with the closest known ones first (kind order: village, cell, category)."""
        ref = self.ref
        order = {"village": 0, "cell": 1, "category": 2}
        out = []
        villages = list({v.pk: v for v in ref.villages.values()}.values())
        categories = list({c.pk: c for c in ref.categories.values()}.values())
        for entry in sorted(self.unknown.values(), key=lambda e: (order[e["kind"]], -e["rows"], e["first_row"])):
            if entry["kind"] == "village":
                found = [(v.pk, v.name) for v in name_aliases.suggest_village(entry["name"], villages)]
            elif entry["kind"] == "cell":
                village = next(v for v in villages if v.pk == entry["village_id"])
                cells = ref.small_cells.get(village.pk, [])
                found = [(c.pk, c.name) for c in name_aliases.suggest_cell(entry["name"], village, cells)]
            else:
                found = [(c.pk, c.name) for c in name_aliases.suggest_category(entry["name"], categories)]
            out.append({**entry, "suggestions": [{"id": pk, "label": label} for pk, label in found]})
        return out


def parse_rows(sheet: Sheet, header: Header, ref: Reference, result: Analysis, progress: Callable[[int], None]) -> None:
    """Normalise and validate each data row; valid ones go to result.rows, problems to result.errors.

    Every row is checked in full whatever is wrong with it: a formula, an unknown village or a bad
    ID number is one problem of its row, and the row's other columns are still read."""
    cols = header.columns
    seen: dict[str, int] = {}
    # A sheet without <dimension> gives no size: progress then counts against the row limit.
    expected = max(sheet.size_hint - header.row, 1) if sheet.size_hint else MAX_ROWS
    after_total = False
    for number, values in sheet.rows(start=header.row + 1):
        offset = number - header.row - 1
        if offset and offset % PROGRESS_EVERY == 0:
            progress(min(offset * 100 // expected, 99))

        if not any(text_of(v) for v in values):
            continue
        if is_total(values):
            after_total = True
            result.skipped.append({"row": number, "text": "合计行：" + first_text(values)[:40]})
            continue
        if is_note_row(values, after_total=after_total):
            result.skipped.append({"row": number, "text": "表尾说明：" + first_text(values)[:60]})
            continue
        result.total_rows += 1
        before = len(result.errors)

        formulas = set()
        for key, index in cols.items():
            if index < len(values) and is_formula(values[index]):
                formulas.add(key)

        def cell(key, values=values, formulas=formulas):
            index = cols.get(key)
            if key in formulas:
                return None
            return values[index] if index is not None and index < len(values) else None

        def fail(key, message, value=None, number=number, cell=cell):
            result.error(number, header.column_label(key), display_value(key, cell(key) if value is None else value), message)

        for key in sorted(formulas, key=lambda k: cols[k]):
            ref_name = f"{get_column_letter(cols[key] + 1)}{number}"
            result.error(number, header.column_label(key), str(values[cols[key]])[:60], f"{ref_name} {FORMULA_MESSAGE}")

        shown: list[dict] = []  # what is stored, where it differs from the file

        def differs(key, file_text, stored, note="", shown=shown):
            if file_text != stored:
                shown.append({"column": LABELS[key], "file": file_text, "stored": stored, "note": note})

        preview = {"row": number, "name": "", "status": "ok", "changes": shown}
        if len(result.preview) < PREVIEW_LIMIT:
            result.preview[number] = preview
        if len(result.errors) > before:
            preview["status"] = "error"

        raw_name = text_of(cell("name"))
        name = clean_name(raw_name)
        preview["name"] = name[:30]
        if not name:
            if "name" not in formulas:
                fail("name", "请填写姓名")
        elif len(name) > 30:
            fail("name", "姓名不能超过30个字")
        else:
            differs("name", raw_name, name, "去掉多余空格")

        raw_id = cell("id_number")
        id_plain, id_problem = id_text(raw_id)
        parsed = None
        if id_problem:
            fail("id_number", id_problem)
        elif not id_plain:
            if "id_number" not in formulas:
                fail("id_number", "请填写身份证号")
        else:
            try:
                parsed = idnumbers.parse(id_plain)
            except ValidationError as error:
                message = error.messages[0]
                digits = str(raw_id)
                if isinstance(raw_id, int) and len(digits) >= 16 and digits.endswith("0" * (len(digits) - 15)):
                    message = LOST_DIGITS  # Excel keeps 15 significant digits and pads with zeros
                fail("id_number", message)
            else:
                plain = SPACES.sub("", id_plain).translate(FULLWIDTH_DIGITS)
                if len(plain) == 15:
                    note = "15位身份证号升级为18位"
                elif plain != id_plain:
                    note = "去掉空格、全角数字改为半角" if plain.upper() == parsed.number else "去掉空格、全角字符"
                    if plain.upper() != plain:
                        note += "，末位x改为大写X"
                elif plain != parsed.number:
                    note = "末位x改为大写X"
                else:
                    note = ""
                if isinstance(raw_id, (int, float)):
                    note = ("存成数字的身份证号按文本读取；" + note).rstrip("；")
                if note:
                    shown.append(
                        {
                            "column": LABELS["id_number"],
                            "file": display_value("id_number", id_plain),
                            "stored": parsed.masked,
                            "note": note,
                        }
                    )

        gender_text = text_of(cell("gender"))
        if gender_text:
            gender = GENDERS.get(gender_text.lower())
            if gender is None:
                fail("gender", "性别请填写“男”或“女”")
            elif parsed and gender != parsed.gender:
                fail("gender", "性别与身份证号不一致（身份证号第17位奇数为男，偶数为女）")

        phone = ""
        phone_raw = cell("phone")
        if text_of(phone_raw):
            try:
                phone = normalize_phone(text_of(phone_raw))
            except ValidationError as error:
                fail("phone", error.messages[0])
            else:
                differs("phone", text_of(phone_raw), phone, "统一为标准格式")

        village = cell_obj = None
        village_text = text_of(cell("village"))
        if not village_text:
            if "village" not in formulas:
                fail("village", "请填写村（社区）")
        else:
            village = ref.village(village_text)
            if village is None:
                result.unknown_name(NameAlias.Kind.VILLAGE, village_text, number)
            else:
                differs("village", village_text, village.name, "按本镇名称对应")
        cell_text = text_of(cell("cell"))
        likely = ref.likely_village(village_text) if village is None and village_text else None
        if not cell_text:
            if "cell" not in formulas:
                fail("cell", "请填写网格（小网格名称或编号）")
        elif likely is not None:
            # The village is not mapped yet but only one is plausible: ask about its cell names in
            # the same round, so mapping does not take one round per column.
            if (
                ref.cell(likely, cell_text) is None
                and norm(cell_text) not in ref.big_cells.get(likely.pk, set())
                and ref.small_cells.get(likely.pk)
            ):
                result.unknown_name(NameAlias.Kind.CELL, cell_text, number, likely)
        elif village is not None:
            cell_obj = ref.cell(village, cell_text)
            if cell_obj is None:
                if norm(cell_text) in ref.big_cells.get(village.pk, set()):
                    fail("cell", f"“{cell_text}”是大网格，请填写户所在的小网格")
                elif not ref.small_cells.get(village.pk):
                    fail("cell", f"{village.name}还没有小网格，请先由镇管理员维护网格")
                else:
                    result.unknown_name(NameAlias.Kind.CELL, cell_text, number, village)
            else:
                differs("cell", cell_text, cell_obj.name, "按本镇名称对应")

        category_ids: set[int] = set()
        category_text = text_of(cell("categories"))
        if not category_text:
            if "categories" not in formulas:
                fail("categories", "请填写人员类别")
        else:
            stored_names = []
            pending = renamed = False
            parts = list(filter(None, CATEGORY_SPLIT.split(category_text)))
            for part in parts:
                category = ref.category(part)
                if category is None:
                    pending = True
                    result.unknown_name(NameAlias.Kind.CATEGORY, part, number)
                elif category.pk not in category_ids:
                    category_ids.add(category.pk)
                    stored_names.append(category.name)
                    renamed = renamed or norm(part) != norm(category.name)
            if not pending:
                note = "、".join(
                    filter(
                        None,
                        [f"拆分为{len(stored_names)}项" if len(stored_names) > 1 else "", "按本镇名称对应" if renamed else ""],
                    )
                )
                differs("categories", category_text, "、".join(stored_names), note)

        address = text_of(cell("address"))
        if len(address) > 120:
            fail("address", "住址不能超过120个字")
        notes = text_of(cell("notes"))
        if len(notes) > 200:
            fail("notes", "备注不能超过200个字")

        if parsed is not None:
            digest = idnumbers.digest(parsed.number)
            if digest in seen:
                fail("id_number", f"与第{seen[digest]}行的身份证号重复，同一人只能出现一次")
            else:
                seen[digest] = number
        if len(result.errors) == before and result.pending_row != number:
            result.rows.append(
                Row(
                    number,
                    name,
                    parsed.number,
                    digest,
                    phone,
                    village.pk,
                    cell_obj.pk,
                    tuple(sorted(category_ids)),
                    address,
                    notes,
                )
            )
