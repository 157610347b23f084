import os

import pytest

from tests.cast import build_cast

if os.environ.get("NUANXIN_TESTING") != "1":
    raise pytest.UsageError("Run the tests with `make test` (it sets the test environment: PostgreSQL, Redis, keys).")


@pytest.fixture
def cast(db):
    return build_cast()
