"""Real files behind generated receipts (the demo county's scanned roster pages).

Pillow is not installed, so a roster page is a small PDF written with the standard library: A4,
one table per page, Chinese text in the PDF's standard CJK font STSong-Light (UniGB-UCS2-H), which
every PDF reader substitutes with an installed Song/Ming face, so nothing is embedded. The file is
stored as an upload is (MEDIA_ROOT-relative ``receipts/YYYY/MM/…``) and its SHA-256 returned for the
Receipt row, so 集中代签 compares real file digests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

ROWS_PER_PAGE = 28
_PAGE_W, _PAGE_H = 595, 842  # A4 in points


def _text(x: float, y: float, size: int, text: str) -> str:
    return f"BT /F1 {size} Tf {x:.0f} {y:.0f} Td <{text.encode('utf-16-be').hex().upper()}> Tj ET"


def roster_page_pdf(*, title: str, header: str, rows: list[tuple[str, str, str]], note: str) -> bytes:
    """A signed-roster scan stand-in: ``rows`` are (name, what was handed, signature text)."""
    pages = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    streams = []
    number = 0
    for page_number, page_rows in enumerate(pages, start=1):
        ops = [_text(72, 780, 18, title), _text(72, 755, 10, header)]
        top = 730
        ops.append("0.5 w")
        columns = (72, 112, 212, 402, 523)
        ops.append(_text(78, top - 14, 10, "序号"))
        ops.append(_text(118, top - 14, 10, "姓名"))
        ops.append(_text(218, top - 14, 10, "发放内容"))
        ops.append(_text(408, top - 14, 10, "领取人签字"))
        y = top
        for name, what, signed in page_rows:
            number += 1
            y -= 22
            ops.append(_text(78, y - 14, 10, str(number)))
            ops.append(_text(118, y - 14, 10, name))
            ops.append(_text(218, y - 14, 10, what))
            ops.append(_text(408, y - 14, 12, signed))
        bottom = y - 22
        for row_y in range(top, bottom - 1, -22):
            ops.append(f"{columns[0]} {row_y} m {columns[-1]} {row_y} l S")
        for x in columns:
            ops.append(f"{x} {top} m {x} {bottom} l S")
        ops.append(_text(72, 60, 9, f"{note}　第{page_number}页，共{len(pages)}页"))
        streams.append("\n".join(ops).encode("ascii"))

    # Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, then (page, contents) pairs.
    page_ids = [6 + 2 * i for i in range(len(streams))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {len(streams)} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >>"
        b" /FontDescriptor 5 0 R /DW 1000 /W [1 95 500 814 939 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    for page_id, stream in zip(page_ids, streams, strict=True):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}]"
            f" /Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number_ + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def store(name: str, content: bytes) -> str:
    """Write ``content`` at the MEDIA_ROOT-relative ``name`` (as an upload is stored); its SHA-256."""
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()
