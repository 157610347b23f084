"""Views by feature: the visit log, group activities."""
