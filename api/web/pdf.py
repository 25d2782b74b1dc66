"""The evidence report as a PDF (`GET /articles/{id}/report.pdf`), drawn with ReportLab.

ReportLab (BSD, a pure-Python wheel) rather than WeasyPrint or the browser's own print:
WeasyPrint needs Pango and its fonts installed beside the service, the browser's print needs
a browser beside it; ReportLab needs neither, and lays out the report from the same data
the page shows (the API's answer and the page's match views), so the two never disagree.
Text is set in DejaVu Sans, which matplotlib (a dependency) ships: Latin, Greek and Cyrillic
scripts; Japanese and Chinese characters show as empty boxes (the HTML report shows them).
"""

import io
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.schemas import ArticleOut, CheckOut
from api.web.views import MatchView

FONT = "DejaVuSans"
MOST_PASSAGES = 30  # passages and sentence pairs a match lists (the page has them all)
QUOTE_CHARS = 600  # characters of a quoted passage


def _font() -> str:
    """DejaVu Sans from matplotlib's data, registered once (Helvetica if it is missing)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not path.exists():
        return "Helvetica"
    pdfmetrics.registerFont(TTFont(FONT, str(path)))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = getSampleStyleSheet()
    return {
        name: ParagraphStyle(name, parent=base[parent], fontName=font, **extra)
        for name, parent, extra in (
            ("title", "Title", {"fontSize": 16}),
            ("h2", "Heading2", {"fontSize": 12, "spaceBefore": 8}),
            ("h3", "Heading3", {"fontSize": 10, "spaceBefore": 6}),
            ("body", "BodyText", {"fontSize": 9, "leading": 12}),
            ("cell", "BodyText", {"fontSize": 7.5, "leading": 9.5}),
        )
    }


def _text(value: object) -> str:
    return escape(str(value))


def _quote(text: str) -> str:
    return _text(text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + " …")


def _table(rows: list[list[Flowable | str]], widths: Sequence[float]) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _summary(answer: CheckOut, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    sources = answer.summary.sources
    original = answer.original
    if original.id and original.id != answer.id:
        named = f"{original.site} ({original.url})"
    elif not original.source_stored:
        named = "not stored (its signs say this article was copied)"
    else:
        named = "this article"
    overall = (
        f"<b>{100 * answer.summary.share:.0f}%</b> of this text appears in {len(sources)} "
        f"stored source{'' if len(sources) == 1 else 's'}"
        if sources
        else "None of this text was found in a stored article"
    )
    story: list[Flowable] = [
        Paragraph("Summary", s["h2"]),
        Paragraph(
            f"{overall}; likely original: {_text(named)} (confidence {original.confidence:.2f}).",
            s["body"],
        ),
    ]
    if sources:
        rows: list[list[Flowable | str]] = [
            ["source", "published", "% of this text", "words", "copy type"]
        ]
        rows += [
            [
                Paragraph(_text(src.site), s["cell"]),
                src.published_at.strftime("%Y-%m-%d %H:%M") if src.published_at else "unknown",
                f"{100 * src.share:.0f}%",
                str(src.words),
                (src.copy_type or src.relation).replace("_", " "),
            ]
            for src in sources
        ]
        story.append(_table(rows, (55 * mm, 45 * mm, 25 * mm, 18 * mm, 32 * mm)))
    story.append(Paragraph("Why this original", s["h3"]))
    story += [Paragraph(f"• {_text(r)}", s["body"]) for r in original.reasons]
    if answer.meaning:
        story.append(Paragraph(_text(answer.meaning), s["body"]))
    return story


def _changes(view: MatchView, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = []
    for passage in view.changes[:MOST_PASSAGES]:
        parts = []
        for c in passage.changes:
            if c.op == "same":
                parts.append(_text(c.new))
                continue
            if c.old:
                parts.append(f'<strike><font color="#8a1c13">{_text(c.old)}</font></strike>')
            if c.new:
                tag = f" [spun, for “{_text(c.spun)}”]" if c.spun else ""
                parts.append(f'<font color="#14532d"><u>{_text(c.new)}</u></font>{tag}')
        story.append(Paragraph(f"<b>{passage.passage + 1}.</b> " + " ".join(parts), s["cell"]))
    return story


def _match(view: MatchView, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    out = view.out
    kind = out.relation.replace("_", " ")
    if out.copy_type and out.copy_type != out.relation:
        kind += f", {out.copy_type} copy"
    tag = " (likely original)" if view.is_original else ""
    story: list[Flowable] = [
        Paragraph(f"{view.number + 1}. {_text(out.site)}: {_text(kind)}{tag}", s["h2"]),
        Paragraph(_text(out.url), s["body"]),
        Paragraph(
            f"Reused: {_text(view.reused)}; reuse score {out.reuse:.2f}; containment "
            f"{out.scores.containment:.2f} / {out.scores.contained_by:.2f}; verified by "
            f"{out.verified_by}; {out.evidence.shared_words} shared words; language "
            f"{out.language}.",
            s["body"],
        ),
    ]
    if out.explanation:
        story.append(Paragraph(_text(out.explanation), s["body"]))
    width = (85 * mm, 85 * mm)
    passages = out.evidence.passages[:MOST_PASSAGES]
    if passages:
        story.append(Paragraph(f"Shared passages ({len(out.evidence.passages)})", s["h3"]))
        rows: list[list[Flowable | str]] = [["this text", "the match"]]
        rows += [
            [
                Paragraph(f"<b>{n + 1}.</b> {_quote(p.text)}", s["cell"]),
                Paragraph(_quote(theirs), s["cell"]),
            ]
            for n, (p, theirs) in enumerate(zip(passages, view.passage_texts, strict=False))
        ]
        story.append(_table(rows, width))
    if view.changes:
        story.append(Paragraph("Word changes inside passages", s["h3"]))
        story += _changes(view, s)
    if view.pairs:
        story.append(Paragraph(f"Sentence pairs ({len(view.pairs)})", s["h3"]))
        pair_rows: list[list[Flowable | str]] = [["this text", "the match", "similarity"]]
        pair_rows += [
            [Paragraph(_quote(a), s["cell"]), Paragraph(_quote(b), s["cell"]), f"{sim:.2f}"]
            for a, b, sim in view.pairs[:MOST_PASSAGES]
        ]
        story.append(_table(pair_rows, (78 * mm, 78 * mm, 18 * mm)))
    return story


def report_pdf(
    article: ArticleOut, answer: CheckOut, matches: Sequence[MatchView], made_at: str
) -> bytes:
    """The evidence report on a stored article: summary and sources first, then each match."""
    s = _styles()
    published = article.published_at.isoformat() if article.published_at else "unknown"
    story: list[Flowable] = [
        Paragraph(f"Evidence report: article {_text(article.id)}", s["title"]),
        Paragraph(
            f"{_text(article.url)} ({_text(article.site)}), published {published}, first seen "
            f"{article.first_seen_at.isoformat()}. Report made {_text(made_at)} by dedup.",
            s["body"],
        ),
        Spacer(1, 4 * mm),
        *_summary(answer, s),
    ]
    for view in matches:
        story += _match(view, s)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Evidence report: article {article.id}",
        author="dedup",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    document.build(story)
    return buffer.getvalue()
