"""County setup: the division map (towns, villages and communities, big and small grid cells)
planned against the database, matched by code; nothing in the database is ever planned away."""

from __future__ import annotations

from towns.county_setup.layout import (
    LEVELS,
    MAP_SHEETS,
    TOWN_KINDS,
    VILLAGE_KINDS,
    Part,
    Plan,
    Problem,
    diff,
    division_code,
    households_by,
    kept_label,
    people_by,
    sheet_rows,
    unique_names,
)
from towns.models import GridCell, Town, Village


def plan_map(upload, plan: Plan, *, size: int, name: str) -> None:
    towns_db = {t.code: t for t in Town._base_manager.all()}
    villages_db = {v.code: v for v in Village._base_manager.select_related("town")}
    cells_db = {(c.town_id, c.code): c for c in GridCell._base_manager.select_related("town", "village", "parent")}
    towns_part = plan.parts.setdefault("towns", Part("镇（街道）"))
    villages_part = plan.parts.setdefault("villages", Part("村（社区）"))
    cells_part = plan.parts.setdefault("cells", Part("网格"))

    # Towns: code -> final values; names must stay unique across file and kept database rows.
    town_final: dict[str, dict] = {}
    for number, row in sheet_rows(upload, "镇街道", MAP_SHEETS["镇街道"], plan, size=size, name=name):
        code = division_code(row["code"], town=True)
        if row["code"] and code is None:
            plan.problems.append(Problem("镇街道", number, "区划代码", f"“{row['code']}”不是12位（或9位）数字"))
        kind = TOWN_KINDS.get(row["kind"])
        if row["kind"] and kind is None:
            plan.problems.append(Problem("镇街道", number, "类型", f"“{row['kind']}”不对，请填“镇”或“街道”"))
        if code and code in town_final:
            plan.problems.append(Problem("镇街道", number, "区划代码", f"代码{code}与第{town_final[code]['row']}行重复"))
            continue
        if code and row["name"] and kind:
            town_final[code] = {"row": number, "code": code, "name": row["name"][:50], "kind": kind}
    unique_names("镇街道", plan, town_final, {c: t.name for c, t in towns_db.items()})
    for code, values in town_final.items():
        diff(towns_part, towns_db.get(code), values, ("name", "kind"))
    towns_part.kept = [f"{t.name}（{c}）" for c, t in towns_db.items() if c not in town_final]

    # Lookups for a town named in another sheet: by code or by name (file first, then database).
    town_names = {t.name: c for c, t in towns_db.items()}
    town_names.update({v["name"]: c for c, v in town_final.items()})
    known_towns = set(towns_db) | set(town_final)

    def town_code(text: str) -> str | None:
        code = division_code(text, town=True)
        if code in known_towns:
            return code
        return town_names.get(text)

    village_final: dict[str, dict] = {}
    households_in_village = households_by("village_id")
    for number, row in sheet_rows(upload, "村社区", MAP_SHEETS["村社区"], plan, size=size, name=name):
        code = division_code(row["code"], town=False)
        if row["code"] and code is None:
            plan.problems.append(Problem("村社区", number, "区划代码", f"“{row['code']}”不是12位数字"))
        kind = VILLAGE_KINDS.get(row["kind"])
        if row["kind"] and kind is None:
            plan.problems.append(Problem("村社区", number, "类型", f"“{row['kind']}”不对，请填“村”或“社区”"))
        town = town_code(row["town"]) if row["town"] else None
        if row["town"] and town is None:
            plan.problems.append(
                Problem("村社区", number, "所属镇（街道）", f"没有“{row['town']}”这个镇（街道），请先在“镇街道”表中列出")
            )
        if code and code in village_final:
            plan.problems.append(Problem("村社区", number, "区划代码", f"代码{code}与第{village_final[code]['row']}行重复"))
            continue
        existing = villages_db.get(code)
        if existing and town and existing.town.code != town:
            # Its cells, households and people belong to the old town: a move would split them.
            plan.problems.append(
                Problem(
                    "村社区",
                    number,
                    "所属镇（街道）",
                    f"区划代码{code}已是{existing.town.name}的{existing.name}，不能改属其他镇（街道）",
                )
            )
            continue
        if code and row["name"] and kind and town:
            village_final[code] = {"row": number, "code": code, "name": row["name"][:50], "kind": kind, "town": town}
    by_town: dict[str, dict] = {}
    for code, v in villages_db.items():
        if code not in village_final:
            by_town.setdefault(v.town.code, {})[code] = v.name
    for values in village_final.values():
        others = by_town.get(values["town"], {})
        clash = next((c for c, n in others.items() if n == values["name"]), None)
        if clash:
            plan.problems.append(
                Problem("村社区", values["row"], "名称", f"本镇已有同名的村（社区）“{values['name']}”（代码{clash}）")
            )
    seen: dict[tuple, int] = {}
    for values in village_final.values():
        key = (values["town"], values["name"])
        if key in seen:
            plan.problems.append(Problem("村社区", values["row"], "名称", f"与第{seen[key]}行同一镇内重名"))
        seen.setdefault(key, values["row"])
    for code, values in village_final.items():
        existing = villages_db.get(code)
        compare = dict(values, town=values["town"])
        if existing is None:
            villages_part.new.append(values)
            continue
        current = {"name": existing.name, "kind": existing.kind, "town": existing.town.code}
        if current == {k: compare[k] for k in current}:
            villages_part.unchanged += 1
        elif current["name"] != values["name"]:
            villages_part.renamed.append((existing, values))
        else:
            villages_part.updated.append((existing, values))
    villages_part.kept = [
        kept_label(v.name, households_in_village.get(v.pk)) for c, v in villages_db.items() if c not in village_final
    ]

    village_codes = set(villages_db) | set(village_final)
    village_town = {c: v.town.code for c, v in villages_db.items()} | {c: v["town"] for c, v in village_final.items()}
    village_names = {(v.town.code, v.name): c for c, v in villages_db.items()} | {
        (v["town"], v["name"]): c for c, v in village_final.items()
    }
    people_in_cell = people_by("cell_id")
    cell_final: dict[tuple, dict] = {}
    for number, row in sheet_rows(upload, "网格", MAP_SHEETS["网格"], plan, size=size, name=name):
        town = town_code(row["town"]) if row["town"] else None
        if row["town"] and town is None:
            plan.problems.append(Problem("网格", number, "所属镇（街道）", f"没有“{row['town']}”这个镇（街道）"))
        level = LEVELS.get(row["level"])
        if row["level"] and level is None:
            plan.problems.append(Problem("网格", number, "层级", f"“{row['level']}”不对，请填“大网格”或“小网格”"))
        village = None
        if row["village"] and town:
            village = division_code(row["village"], town=False)
            if village not in village_codes:
                village = village_names.get((town, row["village"]))
            if village is None:
                plan.problems.append(
                    Problem("网格", number, "所属村（社区）", f"本镇没有“{row['village']}”，请先在“村社区”表中列出")
                )
            elif village_town[village] != town:
                plan.problems.append(Problem("网格", number, "所属村（社区）", f"“{row['village']}”不属于该镇（街道）"))
                village = None
        if len(row["code"]) > 30 or len(row["name"]) > 60:
            plan.problems.append(Problem("网格", number, "网格编号", "网格编号不超过30字、名称不超过60字"))
            continue
        if level == GridCell.Level.SMALL and not row.get("parent"):
            plan.problems.append(Problem("网格", number, "所属大网格编号", "小网格须填所属大网格编号"))
        if level == GridCell.Level.BIG and row.get("parent"):
            plan.problems.append(Problem("网格", number, "所属大网格编号", "大网格不能再有上级网格，请留空"))
        key = (town, row["code"])
        if town and key in cell_final:
            plan.problems.append(
                Problem("网格", number, "网格编号", f"本镇网格编号“{row['code']}”与第{cell_final[key]['row']}行重复")
            )
            continue
        if town and row["code"] and row["name"] and level and village:
            cell_final[key] = {
                "row": number,
                "town": town,
                "code": row["code"],
                "name": row["name"],
                "level": level,
                "village": village,
                "parent": row.get("parent") or None,
            }
    db_cells_by_code = {}
    for (_town_id, code), cell in cells_db.items():
        db_cells_by_code[(cell.town.code, code)] = cell
    for values in cell_final.values():
        if values["level"] != GridCell.Level.SMALL:
            continue
        parent_key = (values["town"], values["parent"])
        parent = cell_final.get(parent_key)
        parent_level = parent["level"] if parent else getattr(db_cells_by_code.get(parent_key), "level", None)
        parent_village = (
            parent["village"] if parent else getattr(getattr(db_cells_by_code.get(parent_key), "village", None), "code", None)
        )
        if parent_level is None:
            plan.problems.append(Problem("网格", values["row"], "所属大网格编号", f"本镇没有编号为“{values['parent']}”的大网格"))
        elif parent_level != GridCell.Level.BIG:
            plan.problems.append(Problem("网格", values["row"], "所属大网格编号", f"“{values['parent']}”是小网格，不能作为上级"))
        elif parent_village and parent_village != values["village"]:
            plan.problems.append(Problem("网格", values["row"], "所属大网格编号", "小网格与所属大网格须在同一个村（社区）"))
    for key, values in cell_final.items():
        existing = db_cells_by_code.get(key)
        if existing is None:
            cells_part.new.append(values)
            continue
        people = people_in_cell.get(existing.pk, 0)
        current = {
            "name": existing.name,
            "level": existing.level,
            "village": existing.village.code if existing.village_id else None,
            "parent": existing.parent.code if existing.parent_id else None,
        }
        if people and (current["level"] != values["level"] or current["village"] != values["village"]):
            plan.problems.append(
                Problem(
                    "网格",
                    values["row"],
                    "所属村（社区）",
                    f"“{existing.name}”已有{people}名在册对象，不能改层级或改到其他村（社区）",
                )
            )
            continue
        if current == {k: values[k] for k in current}:
            cells_part.unchanged += 1
        elif current["name"] != values["name"]:
            cells_part.renamed.append((existing, values))
        else:
            cells_part.updated.append((existing, values))
    cells_part.kept = [
        kept_label(f"{c.town.name} {c.name}（{c.code}）", people_in_cell.get(c.pk), unit="名在册对象")
        for key, c in db_cells_by_code.items()
        if key not in cell_final
    ]
