import re
from pathlib import Path

from django.conf import settings

# With USE_THOUSAND_SEPARATOR an id printed bare in a link reads 1,857: a broken link once a
# table passes a thousand rows. Ids inside URLs must go through |unlocalize (or {% url %}).
_BARE_ID_IN_LINK = re.compile(r"[?&][a-z_]+=\{\{ ?[\w.]+ ?\}\}")


def test_ids_in_query_strings_are_never_localised():
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if _BARE_ID_IN_LINK.search(line):
                offenders.append(f"{template.relative_to(settings.BASE_DIR)}:{number}")
    assert not offenders, f"add |unlocalize: {offenders}"
