"""Roster import (issue 4 §5, issue 16): a town's own Excel roster into the registry, all or nothing.

One module per job, each importing only those above it in this list:

- ``parse``: the file (size, a real .xlsx, zip bomb), the sheet read as a stream, the header, and
  what a cell's text means (totals, footnotes, names, ID numbers as Excel stores them).
- ``rows``: every data row normalised and checked in one pass against the town's reference data
  and its aliases (towns/name_aliases.py); unknown names are grouped, not guessed.
- ``check``: the valid rows sorted into new / updated / unchanged against the registry.
- ``commit``: the bulk writes of a confirmed import, in batches, in the caller's transaction.
- ``records``: the RosterImport row's progress and bookkeeping.
- ``workbook``: the error workbook (built by the worker, kept as a file) and the template.
- ``jobs``: the background steps (check, commit) and housekeeping, run by towns/tasks.py.
- ``actions``: what a cadre does (upload, map names, pick a sheet, confirm, retry); they queue
  the jobs by task name through the outbox, never by importing the tasks module.

Memory stays flat whatever the file: the sheet is streamed (openpyxl read-only), the checked
rows are compact, the per-row preview keeps the first PREVIEW_LIMIT rows, and the writes and
their audit records go in batches.
"""
