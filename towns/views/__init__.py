"""Views by feature: accounts, home (我的任务), registry, imports, zones."""
