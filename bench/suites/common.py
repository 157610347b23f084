"""Helpers the suites share: demo users, logged-in clients, captured SQL, a raw connection."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import db


def user(username: str):
    return get_user_model().objects.get(username=username)


def client_for(ctx, username: str) -> Client:
    """A test client logged in as a demo user (in-process: the full middleware stack, no socket)."""
    key = f"client:{username}"
    if key not in ctx.cache:
        client = Client()
        client.force_login(user(username))
        ctx.cache[key] = client
    return ctx.cache[key]


def raw(ctx):
    """One plain psycopg connection (autocommit) for the raw baselines."""
    if "raw" not in ctx.cache or ctx.cache["raw"].closed:
        ctx.cache["raw"] = db.raw_connection(autocommit=True)
    return ctx.cache["raw"]


def captured(fn) -> list[str]:
    """The SQL statements one call of ``fn`` sends."""
    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries]


_COUNT = re.compile(r"\bCOUNT\s*\(", re.I)


def counts_over(sql: list[str], table: str) -> list[str]:
    """Statements that COUNT over ``table`` (an exact count of a big table is what we forbid)."""
    return [s for s in sql if _COUNT.search(s) and f'"{table}"' in s]


def get_ok(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response
