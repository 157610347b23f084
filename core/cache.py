"""A Redis cache that fails open (issue 14 §1): with Redis down or frozen every read is a miss,
every write is dropped, and the page goes on from the database.

Each call has a short socket timeout (OPTIONS socket_timeout, 0.5 s), and after a failure the
cache is not tried again for 5 s (OPTIONS retry_seconds), so an outage costs one slow call per
process every few seconds, not one per cache call.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)


class FailOpenRedisCache(RedisCache):
    retry_seconds = 5.0

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("retry_seconds", self.retry_seconds))
        timeout = float(options.pop("socket_timeout", 0.5))
        options.setdefault("socket_timeout", timeout)
        options.setdefault("socket_connect_timeout", timeout)
        params = {**params, "OPTIONS": options}
        super().__init__(server, params)
        self._down_until = 0.0

    def _guard(self, name, default, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return default
        try:
            return getattr(super(), name)(*args, **kwargs)
        except Exception as exc:  # redis errors of every kind, and a frozen server's timeouts
            if self._down_until == 0.0 or time.monotonic() >= self._down_until:
                log.warning("cache unavailable (%s): going on without it for %ss", exc.__class__.__name__, self.retry_seconds)
            self._down_until = time.monotonic() + self.retry_seconds
            return default

    def get(self, key, default=None, version=None):
        return self._guard("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._guard("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._guard("has_key", False, key, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("set_many", list(data), data, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # Down: "added" (the caller goes ahead and does the work; the outbox coalesces duplicates).
        return self._guard("add", True, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._guard("delete_many", None, keys, version)

    def incr(self, key, delta=1, version=None):
        return self._guard("incr", delta, key, delta, version)

    def clear(self):
        return self._guard("clear", None)
