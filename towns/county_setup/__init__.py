"""Set up a county from its own files (issue 16 §1): the division map, the categories, the cadres.

Three .xlsx workbooks in fixed layouts (workbooks.template builds them). analyse() reads them and plans,
row by row, what each will add or rename, with every error by sheet row and column; apply() writes
the plan in one transaction, audited, only when there is no error. Matching is by code (towns,
villages, categories), by town + cell number (grid cells) and by login name (cadres): a new name
under a known code is a rename. Nothing is ever deleted: what the database has and the file lacks
is listed as kept. File safety (size, zip bombs, macros, encryption) is the roster import's.

Modules: ``layout`` (the workbooks' layouts, the plan, shared reading), ``divisions`` and
``people`` (planning each part), ``plan`` (``analyse``), ``writing`` (``apply``), ``workbooks``.
"""
