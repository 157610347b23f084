"""Views by feature: group activities, follow-ups and the board, target lists, the visit ledger.

The visit log (a visit with its grants) is funds' (funds/visit_log_views.py).
"""
