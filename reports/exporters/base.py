"""The exporter base: which rows (the list page's FilterSet), batches, totals, progress, the file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Aggregate, CharField, DateTimeField, Func, Value
from django.http import QueryDict

from reports.exporters.cells import Column, Totals, localizer
from reports.exporters.writers import writer_for

PROGRESS_EVERY = 1000  # rows between progress callbacks (the job throttles its database writes further)


class LocalTime(Func):
    """A timestamptz as local wall-clock time, in SQL on PostgreSQL (``AT TIME ZONE``); other databases
    return the stored value and the exporter converts it in Python."""

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} AT TIME ZONE %s)", (*params, settings.TIME_ZONE)

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


class _GroupConcat(Aggregate):
    function = "GROUP_CONCAT"
    output_field = CharField()


def joined(expression: str, separator: str, *, order_by: str):
    """Names joined into one cell by the database: STRING_AGG on PostgreSQL, GROUP_CONCAT elsewhere."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import StringAgg

        return StringAgg(expression, separator, order_by=order_by, output_field=CharField())
    return _GroupConcat(expression, Value(separator))


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def labels(choices) -> dict:
    return dict(choices)


class Exporter:
    """One spreadsheet. Subclasses set name/title/columns and implement ``read()`` and ``shape()``."""

    name = ""
    title = ""
    columns: tuple[Column, ...] = ()
    batch_size = 2000
    totals_label = "合计"
    personal = True  # names and masked ID numbers: downloads are recorded as personal data leaving

    def __init__(self, user, params=None, *, writer=None):
        self.user = user
        if params is None:
            params = QueryDict(mutable=True)
        elif not isinstance(params, QueryDict):
            data = QueryDict(mutable=True)
            for key, value in params.items():
                if value not in (None, ""):
                    data[key] = str(value)
            params = data
        self.params = params
        self.writer = writer
        self.row_count = 0
        self.local = localizer()

    # --- which rows ----------------------------------------------------------------------

    def filterset(self):
        """The list page's FilterSet over the user's rows, or None (coverage has no list page)."""
        return None

    def errors(self) -> list[str]:
        """Why these parameters cannot be exported (Chinese, for the form); empty when they can."""
        filterset = self.filterset()
        if filterset is None or not filterset.is_bound or filterset.is_valid():
            return []
        return [
            f"{filterset.filters[name].label}：{'；'.join(errs)}"
            for name, errs in filterset.errors.items()
            if name in filterset.filters
        ] or ["筛选条件有误"]

    def filters(self) -> dict:
        """The parameters that choose rows (the FilterSet's own), as stored on the job and in the audit record."""
        filterset = self.filterset()
        names = set(filterset.filters) if filterset is not None else set(self.params)
        return {k: v for k, v in self.params.items() if v and k in names}

    def describe(self) -> str:
        """The chosen filters in words (镇（街道）：冶山镇；走访方式：入户走访), for the exports page."""
        filterset = self.filterset()
        if filterset is None or (filterset.is_bound and not filterset.is_valid()):
            return ""
        cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
        parts = []
        for name, value in self.filters().items():
            chosen = cleaned.get(name, value)
            choices = dict((str(k), v) for k, v, *_ in filterset.filters[name].extra.get("choices") or [])
            shown = choices.get(str(chosen), chosen) if not hasattr(chosen, "pk") else str(chosen)
            parts.append(f"{filterset.filters[name].label}：{shown}")
        return "；".join(parts)[:300]

    def queryset(self):
        filterset = self.filterset()
        return filterset.qs

    def estimate(self) -> int:
        """How many rows to expect, for the progress bar."""
        return self.queryset().order_by().count()

    # --- what subclasses provide ---------------------------------------------------------

    def read(self) -> Iterator:
        """Batches of raw database rows (with whatever each batch needs besides)."""
        raise NotImplementedError

    def shape(self, batch) -> Iterator[tuple]:
        """One batch's spreadsheet rows, in column order."""
        raise NotImplementedError

    def rows(self) -> Iterator[tuple]:
        for batch in self.read():
            yield from self.shape(batch)

    # --- helpers ---------------------------------------------------------------------

    def stream(self, queryset, fields: Iterable[str]) -> Iterator[list[tuple]]:
        """``values_list(*fields)`` in the queryset's order, through a server-side cursor, in batches."""
        return chunked(queryset.values_list(*fields).iterator(chunk_size=self.batch_size), self.batch_size)

    # --- the file -------------------------------------------------------------------

    def prepared(self, rows: Iterable[tuple], progress: Callable[[int], None] | None = None) -> Iterator[tuple]:
        """The rows as the writer gets them: counted, progress reported, then the totals row.

        Values arrive ready from ``shape()`` (local naive datetimes, dates, Decimals, str or None):
        converting here, cell by cell, would cost more than the writer itself.
        """
        totals = {i: Decimal(0) if c.kind == "money" else 0 for i, c in enumerate(self.columns) if c.total}
        count = 0
        report_at = PROGRESS_EVERY
        for row in rows:
            count += 1
            if totals:
                for i in totals:
                    if row[i] is not None:
                        totals[i] += row[i]
            if progress is not None and count >= report_at:
                progress(count)
                report_at += PROGRESS_EVERY
            yield row
        self.row_count = count
        if totals and count:
            yield Totals(self.totals_row(totals))

    def totals_row(self, totals: dict) -> tuple:
        """The 合计 row: the summed columns and the label; a subclass adds what derives from the sums."""
        return tuple(totals.get(i, self.totals_label if i == 0 else None) for i in range(len(self.columns)))

    def write(self, out: str | IO[bytes], progress: Callable[[int], None] | None = None) -> int:
        """Write the workbook to a path or binary file; returns the number of data rows."""
        writer = self.writer or writer_for()
        # One read transaction: one snapshot for every query of the file, and PostgreSQL's server-side
        # cursor streams (outside a transaction Django declares it WITH HOLD, which materialises the
        # whole result first: 1.8x the raw cursor at 200k rows, measured).
        with transaction.atomic():
            writer.write(out, title=self.title, columns=self.columns, rows=iter(self.prepared(self.rows(), progress)))
        if progress is not None:
            progress(self.row_count)
        return self.row_count
