"""Sessions in Redis with the idle limit enforced by the application's clock.

Redis expires keys on its own clock; checking a stamp written at each save as well makes the
30-minute idle rule hold whatever the store does (and lets tests move the clock).
"""

import time

from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

_LAST_SEEN = "_nuanxin_last_seen"


class SessionStore(CacheSessionStore):
    def load(self):
        data = super().load()
        last_seen = data.get(_LAST_SEEN)
        if last_seen is not None and time.time() - last_seen > settings.SESSION_COOKIE_AGE:
            self._session_key = None
            return {}
        return data

    def save(self, must_create=False):
        self._get_session(no_load=must_create)[_LAST_SEEN] = time.time()
        super().save(must_create=must_create)
