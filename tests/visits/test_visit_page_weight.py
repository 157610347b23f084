"""The visit form is used on weak rural networks: a first load with an empty cache, static files
included and compressed as whitenoise serves them, must stay under 150 KB (issue 4 §3)."""

import gzip
import re

from django.contrib.staticfiles import finders
from django.templatetags.static import static

BUDGET = 150 * 1024
ASSET = re.compile(r"""<(?:link[^>]*\shref|script[^>]*\ssrc)=["']([^"']+)["']""")


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))  # whitenoise's level


def test_the_visit_form_weighs_under_150_kb_on_a_first_load(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    response = client.get(f"/visits/new/?beneficiary={cast.yeshan.person.pk}", follow=True)  # via the keyed address
    assert response.status_code == 200
    html = response.content
    rows = [("HTML /visits/new/", len(html), gzipped(html))]
    prefix = static("")
    assets = ASSET.findall(html.decode())
    assert assets, "the page should load the vendored CSS and scripts"
    for url in assets:
        assert url.startswith(prefix), f"{url}: every asset must be served locally (no CDN on government intranets)"
        path = finders.find(url[len(prefix) :].split("?")[0])
        assert path, f"{url} is not a static file"
        with open(path, "rb") as f:
            data = f.read()
        rows.append((url, len(data), gzipped(data)))
    total = sum(row[2] for row in rows)
    print("\nvisit form, first load (bytes):")
    for name, raw, packed in rows:
        print(f"  {packed:>8,} gz  {raw:>9,} raw  {name}")
    print(f"  {total:>8,} gz  total (budget {BUDGET:,})")
    assert total < BUDGET
    body = html.decode().lower()
    assert "echarts" not in body  # no chart library on this page
