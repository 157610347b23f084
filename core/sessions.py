"""Sessions in the database, so a Redis outage logs nobody out (issue 14 §1).

The idle limit (SESSION_COOKIE_AGE, 30 minutes) is the row's expire_date, pushed forward when the
session is saved. Saving every request would cost an UPDATE per page; this store skips the write
when nothing in the session changed and it was last saved under TOUCH_SECONDS ago, so a user's
idle clock runs from their last request give or take a minute.

No Redis cache in front: a cache that misses a logout's delete while Redis is down would bring the
logged-out session back when Redis returns, and the row read by primary key is cheap.
"""

import time

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DBSessionStore

_LAST_SAVED = "_nuanxin_last_saved"
TOUCH_SECONDS = 60


class SessionStore(DBSessionStore):
    def save(self, must_create=False):
        if not must_create and self.session_key and not self.modified and self._session_cache:
            last = self._session_cache.get(_LAST_SAVED)
            # (A clock that went back, as in tests that travel in time, counts as just saved.)
            if last is not None and time.time() - last < min(TOUCH_SECONDS, settings.SESSION_COOKIE_AGE / 10):
                return
        self._get_session(no_load=must_create)[_LAST_SAVED] = time.time()
        super().save(must_create=must_create)
