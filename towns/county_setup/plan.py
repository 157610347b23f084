"""County setup: the plan of up to three uploads, read only (writing.apply writes it)."""

from __future__ import annotations

from core.scoping import unscoped
from towns.county_setup.divisions import plan_map
from towns.county_setup.layout import Plan
from towns.county_setup.people import plan_cadres, plan_categories


def analyse(*, map_file=None, categories_file=None, cadres_file=None) -> Plan:
    """Plan from up to three uploads: (fileobj, size, name) each. Reads only."""
    plan = Plan()
    with unscoped():  # a county-wide job: every town's map, read on purpose
        _analyse_into(plan, map_file, categories_file, cadres_file)
    return plan


def _analyse_into(plan, map_file, categories_file, cadres_file) -> None:
    if map_file:
        plan_map(map_file[0], plan, size=map_file[1], name=map_file[2])
    if categories_file:
        plan_categories(categories_file[0], plan, size=categories_file[1], name=categories_file[2])
    if cadres_file:
        plan_cadres(cadres_file[0], plan, size=cadres_file[1], name=cadres_file[2])
