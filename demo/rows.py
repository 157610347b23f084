"""Writing generated rows fast (explicit ids, COPY or executemany) and the seeded random values
they are made of: names, phones, days, times, ages and categories."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max

from demo.facts import BULLETIN_DAY, GIVEN, PHONE_PREFIXES, SURNAMES, TZ
from visits.models import Activity, Visit

# --- writing rows


class Writer:
    """Streams rows with explicit ids into a table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.counts: Counter = Counter()
        self._next: dict = {}
        self.models: list = []

    def new_id(self, model) -> int:
        if model not in self._next:
            self._next[model] = (model._base_manager.aggregate(m=Max("pk"))["m"] or 0) + 1
            self.models.append(model)
        value = self._next[model]
        self._next[model] += 1
        return value

    def insert(self, model, columns: list[str], rows: Iterable[tuple], batch: int = 20_000) -> int:
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        fields = [by_attname[c] for c in columns]
        # Columns added to the models later get their defaults, so the loader keeps working.
        now = datetime.now(TZ)
        extra = []
        for f in meta.concrete_fields:
            if f.attname in columns or f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                extra.append((f, lambda now=now: now))
            else:
                extra.append((f, f.get_default))
        fields += [f for f, _ in extra]
        makers = [make for _, make in extra]
        qn = connection.ops.quote_name
        column_sql = ", ".join(qn(f.column) for f in fields)
        total = 0
        chunk: list = []

        def flush():
            if not chunk:
                return
            with connection.cursor() as cursor:
                if self.pg:
                    with cursor.copy(f"COPY {qn(meta.db_table)} ({column_sql}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(fields))
                    prepared = [
                        tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)) for row in chunk
                    ]
                    cursor.executemany(f"INSERT INTO {qn(meta.db_table)} ({column_sql}) VALUES ({marks})", prepared)  # noqa: S608 (model metadata, not input)
            chunk.clear()

        for row in rows:
            chunk.append((*row, *(make() for make in makers)) if makers else row)
            if len(chunk) >= batch:
                total += len(chunk)
                flush()
        total += len(chunk)
        flush()
        self.counts[meta.label] += total
        return total

    def reset_sequences(self):
        # Later inserts by the application must not collide with the explicit ids.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), self.models):
                cursor.execute(sql)


# --- seeded random values


class Gen:
    """Random values from a seeded generator: names, phones, ID numbers, times."""

    def __init__(self, seed: str):
        self.rng = random.Random(seed)

    def name(self, gender: str, generation: str, surname: str | None = None) -> str:
        return (surname or self.rng.choice(SURNAMES)) + self.rng.choice(GIVEN[(generation, gender)])

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def moment(self, day: date, start_hour: int = 8, end_hour: int = 17) -> datetime:
        minutes = self.rng.randrange(start_hour * 60, end_hour * 60 + 30)
        return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=TZ)


def write_visits(w: Writer, town, visits) -> None:
    """Visit rows and their visitors, in the order given: (id, person, at, team, campaign, kind, extra)."""
    rows, visitor_rows = [], []
    for vid, person, at, team, campaign, kind, extra in visits:
        rows.append((vid, person.id, person.household_id, town.id, person.cell_id, campaign, kind, at, team[0], *extra))
        visitor_rows += [(vid, c) for c in team]
    w.insert(
        Visit,
        [
            "id",
            "beneficiary_id",
            "household_id",
            "town_id",
            "cell_id",
            "campaign_id",
            "kind",
            "visited_at",
            "recorded_by_id",
            "volunteers_count",
            "bp_systolic",
            "bp_diastolic",
            "notes",
            "idempotency_key",
            "created_at",
        ],
        rows,
    )
    w.insert(Visit.visitors.through, ["visit_id", "cadre_id"], visitor_rows)


def write_activities(w: Writer, rows: list[tuple], linked: list[tuple]) -> None:
    """Activity rows and the people linked to them by name."""
    w.insert(
        Activity,
        [
            "id",
            "town_id",
            "village_id",
            "campaign_id",
            "kind",
            "title",
            "held_on",
            "organiser_id",
            "organiser_name",
            "participants_count",
            "reached_count",
            "gifts_count",
            "recorded_by_id",
            "notes",
            "created_at",
        ],
        rows,
    )
    w.insert(Activity.beneficiaries.through, ["activity_id", "beneficiary_id"], linked)


def uneven_split(total: int, parts: int, rng: random.Random, minimum: int = 0) -> list[int]:
    """total split into parts of at least minimum, unevenly but summing exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    rest = total - minimum * parts
    raw = [rest * w / sum(weights) for w in weights]
    out = [minimum + int(r) for r in raw]
    by_fraction = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in by_fraction[: total - sum(out)]:
        out[i] += 1
    return out


def proportional(total: int, weights: list[int]) -> list[int]:
    raw = [total * w / sum(weights) for w in weights]
    out = [int(r) for r in raw]
    by_fraction = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in by_fraction[: total - sum(out)]:
        out[i] += 1
    return out


def birth_day(gen: Gen, age: int) -> date:
    return BULLETIN_DAY - timedelta(days=int(age * 365.25) + gen.rng.randrange(1, 364))


def elder_age(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.35:
        return rng.randint(60, 69)
    if r < 0.73:
        return rng.randint(70, 79)
    if r < 0.95:
        return rng.randint(80, 89)
    return rng.randint(90, 99)


def elder_categories(rng: random.Random, age: int, alone: bool) -> tuple[list, bool]:
    cats = ["age60"]
    if alone:
        cats.append("elderly_alone")
        if rng.random() < 0.25:
            cats.append("widowed_elderly")
    if rng.random() < 0.07:
        cats.append("serious_illness")
    if rng.random() < 0.08:
        cats.append("disabled")
    if rng.random() < 0.10:
        cats.append("dibao")
    if rng.random() < (0.5 if "widowed_elderly" in cats else 0.03):
        cats.append("extreme_poverty")
    party = rng.random() < 0.13
    if party:
        if rng.random() < 0.25:
            cats.append("retired_cadre")
        elif age >= 80:
            cats.append("elderly_party_member")
        if len(cats) > 2 or rng.random() < 0.35:
            cats.append("poor_party_member")
    return cats, party


def adult_categories(rng: random.Random) -> tuple[list, bool]:
    cats = []
    for code, p in (("disabled", 0.35), ("serious_illness", 0.25), ("dibao", 0.35), ("extreme_poverty", 0.06)):
        if rng.random() < p:
            cats.append(code)
    party = rng.random() < 0.10
    if party:
        cats.append("poor_party_member")
    if not cats or rng.random() < 0.2:
        cats.append("needy")
    return cats, party
