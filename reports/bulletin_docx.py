"""The bulletin as a Word document in the official layout (issue 7 §2), with python-docx.

The layout of a 组工信息 / 简报 page, after GB/T 9704-2012 (党政机关公文格式) where it applies:
A4, margins 37/35/28/26 mm; the title large and red in 小标宋; 第N期 under it; the issuing unit
left and the date right over a red rule; the topic (专题) line in 黑体; a table of contents in 楷体;
items 「□镇名：标题。」 in 黑体 then the text in 仿宋_GB2312 三号 (16 pt) on a 28 pt line; the
报 / 送 footer between rules in 四号; page numbers 「— 1 —」.

Chinese fonts are named in the East-Asian slot (w:rFonts w:eastAsia) of every run and of the
styles: Word picks the font for Chinese characters from that slot only, so without it a body set
to 仿宋 would print in the default 宋体/等线. Each font is also declared in the font table with an
alternative name (w:altName: 仿宋_GB2312 → 仿宋) for machines without the GB2312 fonts.
"""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import quoteattr

from django.conf import settings
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from reports.models import Bulletin, BulletinItem

RED = RGBColor(0xFF, 0x00, 0x00)
# name -> (font, alternative font). Overridable with settings.BULLETIN_DOCX_FONTS.
DEFAULT_FONTS = {
    "title": ("方正小标宋简体", "华文中宋"),
    "body": ("仿宋_GB2312", "仿宋"),
    "heading": ("黑体", "SimHei"),
    "toc": ("楷体_GB2312", "楷体"),
}
LATIN = "Times New Roman"
BODY_PT = 16  # 三号
FOOTER_PT = 14  # 四号
LINE_PT = 28  # fixed line pitch of the body
# Width between the margins: 210 − 28 − 26 mm.
TEXT_WIDTH = Cm(21 - 2.8 - 2.6)
BOLD = re.compile(r"\*\*(.+?)\*\*")
DRAFT_MARK = "草稿 · 期号暂定"


def _lines(text: str) -> list[str]:
    return [t.strip() for t in (text or "").split("\n") if t.strip()]


def fonts() -> dict[str, tuple[str, str]]:
    return {**DEFAULT_FONTS, **getattr(settings, "BULLETIN_DOCX_FONTS", {})}


def _set_fonts(rpr_parent, east_asia: str) -> None:
    """Latin and East-Asian slots of a run's or a style's rPr."""
    rpr = rpr_parent.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:ascii"), LATIN)
    rfonts.set(qn("w:hAnsi"), LATIN)
    rfonts.set(qn("w:cs"), LATIN)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def _run(paragraph, text: str, font: str, size: float, *, bold=False, color: RGBColor | None = None):
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    _set_fonts(run._r, font)
    return run


def _border(paragraph, side: str, *, size: int, color: str, space: int = 1) -> None:
    """A paragraph rule: size in eighths of a point."""
    ppr = paragraph._p.get_or_add_pPr()
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        # pBdr must come before shd/tabs/spacing/ind/jc in CT_PPr's sequence.
        anchor = next(
            (ppr.find(qn(t)) for t in ("w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc") if ppr.find(qn(t)) is not None), None
        )
        if anchor is not None:
            anchor.addprevious(pbdr)
        else:
            ppr.append(pbdr)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size))
    edge.set(qn("w:space"), str(space))
    edge.set(qn("w:color"), color)
    order = ["top", "left", "bottom", "right"]
    later = [pbdr.find(qn(f"w:{s}")) for s in order[order.index(side) + 1 :]]
    later = [e for e in later if e is not None]
    if later:
        later[0].addprevious(edge)
    else:
        pbdr.append(edge)


def _paragraph_style(document, name: str, font: str, size: float, *, align=None, bold=False, color=None):
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.font.size = Pt(size)
    style.font.bold = bold
    if color is not None:
        style.font.color.rgb = color
    _set_fonts(style.element, font)
    fmt = style.paragraph_format
    if align is not None:
        fmt.alignment = align
    fmt.first_line_indent = Pt(0)
    return style


def _declare_fonts(document, families: dict[str, tuple[str, str]]) -> None:
    """Font table entries with an alternative name and the GB2312 charset, for substitution."""
    part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FONT_TABLE), None)
    if part is None:
        return
    xml = part.blob.decode("utf-8")
    entries = "".join(
        f'<w:font w:name={quoteattr(name)}><w:altName w:val={quoteattr(alt)}/><w:charset w:val="86"/>'
        f'<w:family w:val="{"swiss" if family == "heading" else "roman"}"/><w:pitch w:val="variable"/></w:font>'
        for family, (name, alt) in families.items()
        if f'w:name="{name}"' not in xml
    )
    part._blob = xml.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


def _page_number_footer(section, font: str) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, "— ", font, FOOTER_PT)
    run = _run(paragraph, "", font, FOOTER_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    _run(paragraph, " —", font, FOOTER_PT)


def _footer_table(document, style, font: str, lines: list[str]) -> None:
    """报 / 送 between rules: a one-column table over the type width, thick rules above and below,
    a thin one between (a table, so the rules span the width whatever the text's indents)."""
    table = document.add_table(rows=len(lines), cols=1)
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side, size in (("top", 12), ("left", 0), ("bottom", 12), ("right", 0), ("insideH", 4), ("insideV", 0)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single" if size else "nil")
        if size:
            edge.set(qn("w:sz"), str(size))
            edge.set(qn("w:space"), "0")
            edge.set(qn("w:color"), "000000")
        borders.append(edge)
    tbl_pr.append(borders)
    margins = OxmlElement("w:tblCellMar")  # no side margins: the rules line up with the text's margins
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), "0")
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    tbl_pr.append(margins)
    for row, text in zip(table.rows, lines, strict=True):
        cell = row.cells[0]
        cell.width = TEXT_WIDTH
        paragraph = cell.paragraphs[0]
        paragraph.style = style
        _run(paragraph, text, font, FOOTER_PT)


def _text_runs(paragraph, text: str, font: str) -> None:
    """Body text; **…** marks the inline sub-headings the seed sets in bold (高位谋划，立足“早”字做谋划。)."""
    for i, part in enumerate(BOLD.split(text)):
        if part:
            _run(paragraph, part, font, BODY_PT, bold=bool(i % 2))


def build(bulletin: Bulletin, items: list[BulletinItem], number: int) -> bytes:
    """The .docx of an issue: items are the printed ones in order; number is 第N期 (暂定 for a draft)."""
    f = fonts()
    title_font, body_font, heading_font, toc_font = f["title"][0], f["body"][0], f["heading"][0], f["toc"][0]
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.footer_distance = Cm(2.5)

    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _set_fonts(normal.element, body_font)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PT)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Pt(BODY_PT * 2)
    # python-docx's template gives Normal a Latin theme font; the styles below all name theirs.
    _declare_fonts(document, f)

    s_title = _paragraph_style(document, "刊名", title_font, 42, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED)
    s_title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    s_title.paragraph_format.space_before = Pt(12)
    s_number = _paragraph_style(document, "期号", body_font, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    s_number.paragraph_format.space_before = Pt(12)
    s_number.paragraph_format.space_after = Pt(12)
    s_meta = _paragraph_style(document, "编发单位", body_font, BODY_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    s_topic = _paragraph_style(document, "专题", heading_font, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    s_topic.paragraph_format.space_before = Pt(14)
    s_topic.paragraph_format.space_after = Pt(6)
    s_toc = _paragraph_style(document, "目录", toc_font, BODY_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    s_toc.paragraph_format.left_indent = Pt(BODY_PT * 2)
    s_item = _paragraph_style(document, "条目", body_font, BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    s_item.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    s_footer = _paragraph_style(document, "报送", body_font, FOOTER_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    # One character in from the rule (GB/T 9704 版记); a wrapped list lines up after 报：/送：.
    s_footer.paragraph_format.left_indent = Pt(FOOTER_PT * 3)
    s_footer.paragraph_format.first_line_indent = Pt(-FOOTER_PT * 2)
    s_footer.paragraph_format.space_before = s_footer.paragraph_format.space_after = Pt(3)

    p = document.add_paragraph(style=s_title)
    _run(p, bulletin.title, title_font, 42, color=RED)
    p = document.add_paragraph(style=s_number)
    _run(p, f"第 {number} 期", body_font, BODY_PT)
    if not bulletin.is_published:
        # Until publication the number is only the next free one: a printed draft must not pass for the issue.
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(header, DRAFT_MARK, heading_font, FOOTER_PT, color=RED)

    p = document.add_paragraph(style=s_meta)
    p.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    d = bulletin.issue_date
    _run(p, f"{bulletin.issuing_unit}\t{d.year}年{d.month}月{d.day}日", body_font, BODY_PT)
    _border(p, "bottom", size=24, color="FF0000", space=4)  # the red rule, 3 pt

    if bulletin.topic:
        p = document.add_paragraph(style=s_topic)
        _run(p, f"【“{bulletin.topic}”专题】", heading_font, BODY_PT)
    for item in items:
        p = document.add_paragraph(style=s_toc)
        _run(p, f"{item.town.name}：{item.headline}", toc_font, BODY_PT)
    if items:
        document.add_paragraph(style=normal)
    for text in _lines(bulletin.lead):
        _text_runs(document.add_paragraph(style=s_item), text, body_font)

    for item in items:
        paragraphs = [t.strip() for t in item.body.split("\n") if t.strip()] or [""]
        p = document.add_paragraph(style=s_item)
        _run(p, f"□{item.town.name}：{item.headline}。", heading_font, BODY_PT)
        _text_runs(p, paragraphs[0], body_font)
        for text in paragraphs[1:]:
            _text_runs(document.add_paragraph(style=s_item), text, body_font)

    for text in _lines(bulletin.closing):
        _text_runs(document.add_paragraph(style=s_item), text, body_font)

    document.add_paragraph(style=normal)
    _footer_table(document, s_footer, body_font, [f"报：{bulletin.report_to}", f"送：{bulletin.copy_to}"])

    _page_number_footer(section, "宋体")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def filename(bulletin: Bulletin, number: int) -> str:
    draft = "" if bulletin.is_published else "（草稿）"
    return f"{bulletin.title}{bulletin.year}年第{number}期{draft}.docx"
