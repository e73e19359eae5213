"""HTML for the chat UI: answers with linked [n] markers, source cards, highlighted quotes.

Everything here is built from untrusted text (article text, titles, URLs, model output),
so every piece of it is HTML-escaped and only the tags written below reach the page.
The output is meant for ``st.html``, which does not parse Markdown (so ``[x](javascript:)``
or ``![](http://tracker)`` in an article stay text) and sanitises again with DOMPurify.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from dataclasses import dataclass

from rag.answering.news import conflict_sentence
from rag.answering.timeline import Timeline
from rag.app.render import after_note, dating_line
from rag.core.citations import find_markers
from rag.core.dates import pretty_day, pretty_span
from rag.core.schema import Answer, Citation
from rag.core.urls import safe_url, web_host
from rag.indexing.splitting import sentence_spans


def esc(text: str) -> str:
    return html.escape(text, quote=True)


# --- the answer ----------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerSegment:
    """A run of answer text, or one citation marker."""

    text: str
    cite: int | None = None  # the n of a [n] marker that has a source
    unsupported: bool = False  # inside a sentence that failed the support check


def answer_segments(answer: Answer) -> list[AnswerSegment]:
    """Split the answer text into plain runs, flagged runs and citation markers."""
    text = answer.answer
    known = {c.id for c in answer.citations}
    flagged: list[tuple[int, int]] = []
    # (start of a sentence, the citations it carries): a marker is the answerer's own
    # only when the sentence it stands in (or right after) cites those numbers. A "[2]"
    # quoted from an article is text, not a link to another article's source.
    owners: list[tuple[int, set[int]]] = []
    cursor = 0
    for sentence in answer.sentences:
        span = _find(text, sentence.text, cursor) or _find(text, sentence.text, 0)
        if span is None:
            continue
        cursor = span[1]
        owners.append((span[0], set(sentence.citation_ids)))
        if not sentence.supported:
            flagged.append(span)
    owners.sort(key=lambda owner: owner[0])
    markers = [(m.start, m.end, m.numbers) for m in find_markers(text)]
    cuts = {0, len(text)}
    for start, end in flagged:
        cuts |= {start, end}
    for start, end, _ in markers:
        cuts |= {start, end}
    marker_at = {start: (end, numbers) for start, end, numbers in markers}
    segments: list[AnswerSegment] = []
    bounds = sorted(cuts)
    skip_to = 0
    for start, end in itertools.pairwise(bounds):
        if start < skip_to:
            continue
        if start in marker_at:
            marker_end, numbers = marker_at[start]
            skip_to = marker_end
            if all(n in known for n in numbers) and _owned(numbers, start, owners):
                segments += [AnswerSegment(f"[{n}]", cite=n) for n in numbers]
            else:
                segments.append(AnswerSegment(text[start:marker_end]))
            continue
        inside = any(a <= start and end <= b for a, b in flagged)
        segments.append(AnswerSegment(text[start:end], unsupported=inside))
    return [s for s in segments if s.text]


def _owned(numbers: tuple[int, ...], at: int, owners: list[tuple[int, set[int]]]) -> bool:
    """Do the citations of the sentence at ``at`` include ``numbers``? (Answers without
    sentences, from older callers, keep every marker whose source exists.)"""
    if not owners:
        return True
    cited = next((ids for start, ids in reversed(owners) if start <= at), set())
    return set(numbers) <= cited


def _find(text: str, needle: str, start: int) -> tuple[int, int] | None:
    """Where ``needle`` is in ``text``, tolerant of whitespace differences."""
    words = needle.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.compile(pattern).search(text, start)
    return (match.start(), match.end()) if match else None


def answer_html(answer: Answer, anchor: str) -> str:
    """The answer with each [n] linking to source card ``{anchor}-{n}``."""
    if answer.abstained:
        return (
            '<div class="rag-abstain">'
            f"<div><div>{_paragraphs(answer.answer)}</div>"
            '<div class="rag-hint">Try other words, widen the filters, or add articles '
            "that cover it.</div></div></div>"
        )
    parts: list[str] = []
    segments = answer_segments(_without_conflict_sentence(answer))
    by_id = {c.id: c for c in answer.citations}
    group: list[int] = []
    for index, segment in enumerate(segments):
        if segment.cite is not None:
            parts.append(
                f'<a class="rag-cite" href="#{esc(anchor)}-{segment.cite}" '
                f'title="Show source {segment.cite}">{segment.cite}</a>'
            )
            group.append(segment.cite)
            following = segments[index + 1] if index + 1 < len(segments) else None
            if following is None or following.cite is None:
                parts.append(dateline_html([by_id[n] for n in group if n in by_id]))
                group = []
        elif segment.unsupported:
            parts.append(
                '<span class="rag-unsupported" title="Not supported by the cited passage">'
                f'{_paragraphs(segment.text)}<span class="rag-badge">unsupported</span></span>'
            )
        else:
            parts.append(_paragraphs(segment.text))
    notice = ""
    flagged = len(answer.unsupported)
    if flagged:
        notice = (
            '<div class="rag-warn"><strong>Caution:</strong> '
            f"{flagged} sentence{'s' if flagged != 1 else ''} of this answer "
            f"{'are' if flagged != 1 else 'is'} not supported by the cited passages; "
            "read them with care.</div>"
        )
    if answer.planted:
        notice += (
            '<div class="rag-warn rag-planted"><strong>Warning:</strong> this answer '
            "repeats an instruction planted in a cited article (text that gives orders to "
            "an AI model rather than reporting news). Do not rely on it.</div>"
        )
    head = f'<div class="rag-asof">{esc(dating_line(answer))}</div>' if answer.as_of else ""
    later = after_note(answer)
    news = conflicts_html(answer, anchor) + corroboration_html(answer) + (
        f'<div class="rag-after">{esc(later)}</div>' if later else ""
    )
    return f'{head}<div class="rag-answer">{"".join(parts)}</div>{news}{notice}'


def _without_conflict_sentence(answer: Answer) -> Answer:
    """The answer without the "Sources disagree: ..." sentence the chain appends: the
    conflict box under the answer says it, each value with its own outlets and dates."""
    stated = conflict_sentence(answer) if answer.conflicts else ""
    if not stated or stated not in answer.answer:
        return answer
    text = answer.answer.replace(stated, "").rstrip()
    sentences = [s for s in answer.sentences if s.text != stated]
    return answer.model_copy(update={"answer": text, "sentences": sentences})


def dateline_html(citations: list[Citation]) -> str:
    """'Ledger Wire · 25 Feb 2026' after a cited sentence (outlets and dates it cites)."""
    labels: list[str] = []
    for citation in citations:
        label = " · ".join(
            x for x in (citation.source, pretty_day(citation.date) if citation.date else "") if x
        )
        if label and label not in labels:
            labels.append(label)
    if not labels:
        return ""
    return f'<span class="rag-dateline">{esc("; ".join(labels))}</span>'


def conflicts_html(answer: Answer, anchor: str) -> str:
    """A marked box listing each value the sources give, with their citations."""
    if not answer.conflicts:
        return ""
    rows = []
    for conflict in answer.conflicts:
        for value in conflict.values:
            cites = "".join(
                f'<a class="rag-cite" href="#{esc(anchor)}-{n}">{n}</a>'
                for n in value.citation_ids
            )
            who = ", ".join(
                " · ".join(x for x in (o, pretty_day(d) if d else "") if x)
                for o, d in zip(value.outlets, value.dates, strict=False)
            )
            rows.append(f"<li><strong>{esc(value.value)}</strong> {cites} "
                        f'<span class="rag-dateline">{esc(who)}</span></li>')
    kinds = ", ".join(dict.fromkeys(c.kind for c in answer.conflicts))
    return (
        f'<div class="rag-conflict"><div><strong>Sources disagree</strong> ({esc(kinds)})'
        f"</div><ul>{''.join(rows)}</ul></div>"
    )


def timeline_html(timeline: Timeline) -> str:
    """Days oldest first; each article's key sentence with its outlet, its citation
    (linking to the article), and marks for other versions and disagreements."""
    span = pretty_span(timeline.date_from, timeline.date_to) if timeline.date_from else (
        f"up to {pretty_day(timeline.date_to)}"
    )
    parts = [f'<div class="rag-asof">{esc(span)} · as of {esc(pretty_day(timeline.as_of))}</div>']
    if not timeline.days:
        parts.append('<div class="rag-abstain">No indexed article matches it in these dates.'
                     "</div>")
    for day in timeline.days:
        label = pretty_day(day.date) if day.date else "Undated"
        parts.append(f'<div class="rag-timeline-day">{esc(label)}</div>')
        for entry in day.entries:
            number = entry.citation.id
            url = safe_url(entry.citation.url)
            cite = (
                f'<a class="rag-cite" href="{esc(url)}" target="_blank" rel="noopener noreferrer" '
                f'title="{esc(entry.title)}">{number}</a>'
                if url else f'<span class="rag-cite" title="{esc(entry.title)}">{number}</span>'
            )
            marks = ""
            if entry.conflicts_with:
                others = ", ".join(f"[{n}]" for n in entry.conflicts_with)
                marks += f'<span class="rag-timeline-mark">disagrees with {esc(others)}</span>'
            if entry.versions:
                marks += (f'<span class="rag-timeline-mark">{len(entry.versions) + 1} '
                          "versions</span>")
            outlet = (
                f'<span class="rag-dateline">{esc(entry.outlet)}</span>' if entry.outlet else ""
            )
            parts.append(
                f'<div class="rag-timeline-entry" id="tl-{number}">{esc(entry.sentence)} '
                f"{cite}{outlet}{marks}</div>"
            )
    return f'<div class="rag-timeline">{"".join(parts)}</div>'


def corroboration_html(answer: Answer) -> str:
    """"Reported by N outlets" when two or more outlets give the main value (one outlet
    corroborates nothing, and an article without an outlet is named by its id)."""
    found = answer.corroboration
    if found is None or found.count < 2 or answer.conflicts:
        return ""
    outlets = ", ".join(found.outlets)
    return (
        f'<div class="rag-corroboration" title="{esc(outlets)}">Reported by {found.count} '
        f"outlets: {esc(outlets)}</div>"
    )


def streaming_html(text: str) -> str:
    """The answer as it arrives, before citations are known."""
    return f'<div class="rag-answer">{_paragraphs(text)}<span class="rag-caret">▍</span></div>'


def welcome_html(articles: int, outlets: int, date_min: str | None, date_max: str | None) -> str:
    """The empty conversation: what is in the library and how to ask."""
    scope = f"{articles:,} article{'s' if articles != 1 else ''}"
    if outlets:
        scope += f" from {outlets:,} outlet{'s' if outlets != 1 else ''}"
    if date_min and date_max:
        scope += (
            f", published {esc(date_min)}" if date_min == date_max
            else f", {esc(date_min)} to {esc(date_max)}"
        )
    tips: tuple[tuple[str, str], ...] = (
        ("Ask in your own words.", "Every sentence of the answer is quoted from an article."),
        ("Check the source.", "Click a number to see the passage; open it in its article."),
        ("Follow up.", "“Why?” or “Who said that?” is read with the conversation."),
        ("Narrow it down.", "Pick outlets or dates in the sidebar."),
    )
    if not outlets and not (date_min and date_max):
        tips = tips[:-1]  # nothing to narrow by (the sidebar says why)
    items = "".join(f"<li><strong>{esc(a)}</strong> {esc(b)}</li>" for a, b in tips)
    return (
        f'<div class="rag-welcome"><div class="rag-welcome-scope">The library holds {scope}.'
        f"</div><ul>{items}</ul></div>"
    )


def text_html(text: str, css_class: str = "rag-text") -> str:
    return f'<div class="{esc(css_class)}">{_paragraphs(text)}</div>'


def _paragraphs(text: str) -> str:
    return esc(text).replace("\n", "<br>")


# --- sources -------------------------------------------------------------------------
def quote_span(passage: str, quote: str) -> tuple[int, int] | None:
    """Where the quote lies in its passage (whitespace-tolerant), or None."""
    if not quote.strip():
        return None
    found = passage.find(quote)
    if found >= 0:
        return found, found + len(quote)
    return _find(passage, quote, 0)


def excerpt_html(passage: str, quote: str, around: int = 1) -> str:
    """The quote highlighted with ``around`` sentences of its passage on each side;
    an ellipsis marks text left out (the whole article is a click away)."""
    return excerpts_html(passage, [quote], around)


def excerpts_html(
    passage: str, quotes: list[str], around: int = 1, labels: list[str] | None = None
) -> str:
    """Several quotes of one passage highlighted in one excerpt (the sentences from the
    first to the last quote, ``around`` more on each side); ``labels`` (trusted HTML,
    one per quote) go just before their quote's highlight."""
    tags = labels or [""] * len(quotes)
    found = [(quote_span(passage, q), tag) for q, tag in zip(quotes, tags, strict=True)]
    spans = sorted((span, tag) for span, tag in found if span is not None)
    lost = "".join(tag for span, tag in found if span is None)
    if not spans:
        # The quotes are not in the passage text as stored: show the quotes alone.
        shown = [(q, t) for q, t in zip(quotes, tags, strict=True) if q.strip()]
        return " … ".join(
            f'{t}<mark class="rag-quote">{_paragraphs(q)}</mark>' for q, t in shown
        ) or lost + _paragraphs(passage)
    sentences = sentence_spans(passage) or [(0, len(passage))]
    low, high = spans[0][0][0], max(b for (_, b), _ in spans)
    hit = [i for i, (a, b) in enumerate(sentences) if a < high and low < b] or [0]
    first = max(0, hit[0] - around)
    last = min(len(sentences) - 1, hit[-1] + around)
    start = min(sentences[first][0], low)
    end = max(sentences[last][1], high)
    lead = "… " if passage[:start].strip() else ""
    tail = " …" if passage[end:].strip() else ""
    return lost + lead + _marked_all(passage, start, end, spans) + tail


def _marked_all(
    passage: str, start: int, end: int, spans: list[tuple[tuple[int, int], str]]
) -> str:
    out, cursor = [], start
    for (a, b), tag in spans:
        a = max(a, cursor)
        out.append(_paragraphs(passage[cursor:a]) + tag)
        if b <= a:  # the same sentence quoted twice: its label joins the first
            continue
        out.append(f'<mark class="rag-quote">{_paragraphs(passage[a:b])}</mark>')
        cursor = b
    out.append(_paragraphs(passage[cursor:end]))
    return "".join(out)


def _marked(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        return _paragraphs(text)
    start, end = span
    return (
        _paragraphs(text[:start])
        + f'<mark class="rag-quote">{_paragraphs(text[start:end])}</mark>'
        + _paragraphs(text[end:])
    )


def source_meta(citation: Citation) -> list[str]:
    """Outlet, date and web site of a source, those that are known."""
    parts = [citation.source, citation.date]
    host = web_host(citation.url) if citation.url.strip().lower().startswith("http") else ""
    if host and host != citation.source.lower():
        parts.append(host)
    return [p for p in parts if p]


def title_html(citation: Citation) -> str:
    """The source's title, linked when its URL is a web address."""
    title = esc(citation.title or citation.article_id)
    url = safe_url(citation.url)
    if url:
        title = (
            f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{title}</a>"
        )
    return title


def more_html(article: str | None, citations: list[Citation]) -> str:
    """"Show in the article": each quote among its paragraphs, then the whole article
    (nothing when the article text was not looked up)."""
    if article is None:
        return ""
    inner = (
        "".join(context_html(article, c, around=1) for c in citations)
        + '<details class="rag-more rag-whole"><summary>Whole article</summary>'
        + context_html(article, citations[0], around=None)
        + "</details>"
        if article
        else '<p class="rag-hint">This article is no longer in the index.</p>'
    )
    return f'<details class="rag-more"><summary>Show in the article</summary>{inner}</details>'


def source_html(citation: Citation, anchor: str, article: str | None = None) -> str:
    """A source card: number, title (linked when the URL is a web address), outlet,
    date, the supporting sentence highlighted among its neighbours and, when the article
    text is given, the quote in its article behind a "Show in the article" disclosure."""
    title = title_html(citation)
    meta = " · ".join(esc(p) for p in source_meta(citation))
    body = excerpt_html(citation.passage or citation.quote, citation.quote)
    flag = (
        ""
        if citation.supported
        else '<span class="rag-badge" title="The answer sentence citing this was not '
        'supported by it">does not support the answer</span>'
    )
    more = more_html(article, [citation])
    return (
        f'<div class="rag-source" id="{esc(anchor)}-{citation.id}">'
        f'<div class="rag-source-head"><span class="rag-num">{citation.id}</span>'
        f'<span class="rag-title">{title}</span>{flag}</div>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + f'<div class="rag-passage">{body}</div>{more}</div>'
    )


def group_by_article(citations: list[Citation]) -> list[list[Citation]]:
    """The citations one list per article, in order of each article's first [n]."""
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.article_id, []).append(citation)
    return list(groups.values())


def days_before(published: str, as_of: str | None) -> str:
    """"published N days before the question date", or "" when a date is unknown."""
    if not as_of or not published:
        return ""
    try:
        days = (dt.date.fromisoformat(as_of[:10]) - dt.date.fromisoformat(published[:10])).days
    except (TypeError, ValueError):
        return ""
    if days == 0:
        return "published on the question date"
    unit = "day" if abs(days) == 1 else "days"
    side = "before" if days > 0 else "after"
    return f"published {abs(days):,} {unit} {side} the question date"


def article_card_html(
    citations: list[Citation], anchor: str, article: str | None = None, as_of: str | None = None
) -> str:
    """One card for one article: title (linked when the URL is a web address), outlet,
    date, how long before the question it was published, then each quoted passage with
    its [n] (quotes of one passage share one excerpt), and "Show in the article"."""
    head = citations[0]
    title = title_html(head)
    meta = [esc(p) for p in source_meta(head)]
    age = days_before(head.date, as_of)
    if age:
        meta.append(f'<span class="rag-age">{esc(age)}</span>')
    passages: dict[str, list[Citation]] = {}
    for citation in citations:
        passages.setdefault(citation.chunk_id or f"#{citation.id}", []).append(citation)
    items = "".join(_passage_item(group, anchor) for group in passages.values())
    more = more_html(article, citations)
    return (
        f'<div class="rag-source rag-card">'
        f'<div class="rag-source-head"><span class="rag-title">{title}</span></div>'
        + (f'<div class="rag-meta rag-card-meta">{" · ".join(meta)}</div>' if meta else "")
        + f'<div class="rag-quotes">{items}</div>{more}</div>'
    )


def _passage_item(group: list[Citation], anchor: str) -> str:
    """One passage of a card, each quote highlighted behind its [n] (the anchor the
    answer's marker links to); quotes of one passage share the excerpt."""
    labels = [
        f'<span class="rag-num" id="{esc(anchor)}-{c.id}">{c.id}</span>' for c in group
    ]
    flag = (
        ' <span class="rag-badge" title="The answer sentence citing this was not '
        'supported by it">does not support the answer</span>'
        if not all(c.supported for c in group)
        else ""
    )
    first = group[0]
    body = excerpts_html(first.passage or first.quote, [c.quote for c in group], labels=labels)
    return f'<div class="rag-quote-item"><div class="rag-passage">{body}{flag}</div></div>'


# --- the article around a quote ------------------------------------------------------
def locate_quote(article: str, citation: Citation) -> tuple[int, int] | None:
    """The quote's offsets in the article: the recorded ones when they still match
    (the article may have changed since the answer), else wherever the quote is."""
    start, end = citation.quote_start, citation.quote_end
    same = " ".join(article[start:end].split()) == " ".join(citation.quote.split())
    if 0 <= start < end <= len(article) and (not citation.quote or same):
        return start, end
    return quote_span(article, citation.quote)


def context_html(article: str, citation: Citation, around: int | None = 2) -> str:
    """The article's paragraphs around the quote (``around`` each side; None = all),
    the quote highlighted."""
    span = locate_quote(article, citation)
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", article)]
    paragraphs = [(a, b) for a, b in paragraphs if article[a:b].strip()]
    if not paragraphs:
        return '<div class="rag-context"><p><em>The article has no text.</em></p></div>'
    first, last = 0, len(paragraphs) - 1
    if span is not None and around is not None:
        hit = [i for i, (a, b) in enumerate(paragraphs) if a < span[1] and span[0] < b]
        if hit:
            first, last = max(0, hit[0] - around), min(last, hit[-1] + around)
    out: list[str] = []
    if span is None:
        out.append(
            '<p class="rag-hint">The quoted sentence is no longer in this article '
            "(it changed after the answer was given).</p>"
        )
    if first > 0:
        out.append('<p class="rag-ellipsis">…</p>')
    for a, b in paragraphs[first : last + 1]:
        local = None
        if span is not None and a < span[1] and span[0] < b:
            local = (max(span[0], a) - a, min(span[1], b) - a)
        out.append(f"<p>{_marked(article[a:b], local)}</p>")
    if last < len(paragraphs) - 1:
        out.append('<p class="rag-ellipsis">…</p>')
    return f'<div class="rag-context">{"".join(out)}</div>'


# --- copy to the clipboard -----------------------------------------------------------
def copy_button_html(markdown: str, label: str = "Copy") -> str:
    """A button that copies ``markdown``; the text sits HTML-escaped in an attribute and
    COPY_SCRIPT (constant, no untrusted text) does the copying."""
    return (
        f'<button type="button" class="rag-copy" data-copy="{esc(markdown)}" '
        f'title="Copy the answer and its sources as Markdown">{esc(label)}</button>'
    )


#: Loaded once per page (st.html with JavaScript allowed): one click handler for every
#: copy button; the Clipboard API where the page is a secure context, else execCommand.
COPY_SCRIPT = """
<script>
if (!window.__ragCopy) {
  window.__ragCopy = true;
  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("button.rag-copy");
    if (!button) return;
    const text = button.getAttribute("data-copy") || "";
    let done = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        done = true;
      }
    } catch (e) { done = false; }
    if (!done) {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      area.remove();
    }
    const label = button.dataset.label || (button.dataset.label = button.textContent);
    button.textContent = done ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
}
</script>
"""


# Colours are translucent so the same sheet reads well in Streamlit's light and dark themes.
STYLE = """
<style>
.rag-answer { font-size: 1.02rem; line-height: 1.65; }
a.rag-cite {
  display: inline-block; min-width: 1.35em; padding: 0 .35em; margin: 0 .1em;
  border-radius: .7em; background: rgba(59,130,246,.16); color: #2563eb !important;
  font-size: .72em; font-weight: 600; line-height: 1.5; text-align: center;
  vertical-align: super; text-decoration: none !important;
}
a.rag-cite:hover { background: #2563eb; color: #fff !important; }
.rag-unsupported { background: rgba(245,158,11,.14); border-bottom: 2px dotted #d97706; }
.rag-badge {
  display: inline-block; margin-left: .4em; padding: 0 .45em; border-radius: .5em;
  background: rgba(245,158,11,.28); color: inherit; font-size: .7em; font-weight: 600;
  vertical-align: middle; white-space: nowrap;
}
.rag-warn { margin-top: .5rem; color: #b45309; font-size: .85rem; }
.rag-abstain {
  padding: .8rem 1rem; border-radius: .6rem; background: rgba(100,116,139,.09);
  border: 1px solid rgba(100,116,139,.22); border-left: 4px solid rgba(100,116,139,.55);
}
.rag-hint { opacity: .65; font-size: .85rem; margin-top: .25rem; }
.rag-sources-label {
  margin: .9rem 0 .35rem; opacity: .6; font-size: .72rem; font-weight: 700;
  letter-spacing: .08em; text-transform: uppercase;
}
.rag-source {
  padding: .7rem .9rem; margin-bottom: .45rem; border: 1px solid rgba(100,116,139,.25);
  border-radius: .6rem; scroll-margin-top: 5rem;
}
.rag-source:target { border-color: #2563eb; box-shadow: 0 0 0 3px rgba(37,99,235,.2); }
.rag-source-head { display: flex; align-items: baseline; gap: .5rem; font-weight: 600; }
.rag-num {
  flex: none; min-width: 1.5em; padding: 0 .35em; border-radius: .7em;
  background: #2563eb; color: #fff; font-size: .75em; text-align: center;
}
.rag-title a { color: inherit; text-decoration: underline;
  text-decoration-color: rgba(37,99,235,.4); }
.rag-meta { opacity: .65; font-size: .8rem; margin: .1rem 0 .45rem 2.1rem; }
.rag-passage {
  margin-left: 2.1rem; font-size: .9rem; line-height: 1.55; opacity: .92;
  max-height: 14rem; overflow-y: auto;
}
mark.rag-quote {
  background: rgba(250,204,21,.42); color: inherit; padding: .05em .1em; border-radius: .2em;
}
.rag-more { margin: .5rem 0 0 2.1rem; }
.rag-more > summary {
  cursor: pointer; color: #2563eb; font-size: .82rem; font-weight: 600; width: max-content;
}
.rag-more[open] > summary { margin-bottom: .4rem; }
.rag-whole { margin-left: 0; }
.rag-context {
  font-size: .9rem; line-height: 1.6; padding: .6rem .8rem; border-radius: .4rem;
  background: rgba(100,116,139,.07); max-height: 24rem; overflow-y: auto;
}
.rag-context p { margin: 0 0 .6rem; font-size: inherit; line-height: inherit; }
.rag-ellipsis { opacity: .5; }
.rag-caret { opacity: .5; animation: rag-blink 1s steps(2) infinite; }
@keyframes rag-blink { 50% { opacity: 0; } }
.rag-question { white-space: pre-wrap; }
.rag-asof { opacity: .6; font-size: .78rem; margin-bottom: .25rem; }
.rag-dateline {
  margin: 0 .35em 0 .15em; opacity: .6; font-size: .75em; white-space: nowrap;
}
.rag-conflict {
  margin-top: .6rem; padding: .55rem .8rem; border-radius: .5rem; font-size: .9rem;
  background: rgba(220,38,38,.07); border-left: 4px solid #dc2626;
}
.rag-conflict ul { margin: .2rem 0 0; padding-left: 1.1rem; }
.rag-corroboration { margin-top: .45rem; font-size: .82rem; color: #15803d; }
.rag-after { margin-top: .45rem; font-size: .82rem; color: #b45309; }
.rag-timeline-day { margin: 1rem 0 .3rem; font-weight: 700; }
.rag-timeline-entry { margin: .25rem 0 .25rem .8rem; line-height: 1.55; }
.rag-timeline-mark {
  margin-left: .4em; padding: 0 .45em; border-radius: .5em; font-size: .72em;
  background: rgba(220,38,38,.14); white-space: nowrap;
}
.rag-welcome {
  margin-top: 1rem; padding: 1rem 1.2rem; border-radius: .7rem;
  border: 1px solid rgba(100,116,139,.25); background: rgba(37,99,235,.04);
}
.rag-welcome-scope { font-weight: 600; margin-bottom: .4rem; }
.rag-welcome ul { margin: 0; padding-left: 1.1rem; }
.rag-welcome li { margin: .2rem 0; opacity: .85; }
.rag-card { padding: .75rem .9rem .6rem; }
.rag-card-meta { margin-left: 0; }
.rag-age { font-style: italic; }
.rag-quote-item {
  margin: 0 0 .45rem; padding: 0 0 .45rem; border-bottom: 1px dashed rgba(100,116,139,.2);
}
.rag-quote-item:last-child { border-bottom: none; padding-bottom: 0; }
.rag-quote-item .rag-num {
  display: inline-block; margin: 0 .3em 0 .1em; scroll-margin-top: 5rem;
  vertical-align: .1em;
}
.rag-quote-item .rag-passage { margin-left: 0; }
.rag-num:target { box-shadow: 0 0 0 3px rgba(37,99,235,.35); }
.rag-card .rag-more { margin-left: 0; }
.rag-answer, .rag-question, .rag-abstain, .rag-passage, .rag-context, .rag-title,
.rag-text, .rag-meta, .rag-warn, .rag-conflict, .rag-welcome {
  overflow-wrap: anywhere; word-break: break-word; min-width: 0;
}
.rag-copy {
  border: 1px solid rgba(49,51,63,.2); background: transparent; color: inherit;
  border-radius: .5rem; padding: .25rem .75rem; min-height: 2.5rem; font-size: 1rem;
  line-height: 1.6; cursor: pointer; font-family: inherit;
}
.rag-copy:hover { border-color: #2563eb; color: #2563eb; }
</style>
"""


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def escape_markdown(text: str) -> str:
    """Text for Streamlit's Markdown (labels, alerts) that renders as itself: every
    character Markdown or Streamlit's extensions give a meaning to is backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
