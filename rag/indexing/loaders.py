"""Read articles from files: Markdown/text with front matter, HTML, and JSON Lines.

HTML pages go through trafilatura (main text, OpenGraph/JSON-LD metadata) and htmldate
(publication date), the libraries news scrapers use, so a saved news page comes out
with its outlet, date, URL and clean text.

Every failure becomes a one-line :class:`Problem` naming the file and the fix; good
files in the same run are still read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import yaml

from rag.core.schema import Article, Problem
from rag.core.urls import site_name

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
SUPPORTED_LIST = " ".join(sorted(SUPPORTED_SUFFIXES))
# One article file larger than this is almost surely not an article (JSONL is streamed).
MAX_ARTICLE_BYTES = 20_000_000
# Control characters other than tab and newline: never part of an article, and NUL
# breaks text handling downstream.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Fields that hold one value; a list or mapping there is a mistake (or a YAML alias
# bomb, whose str() would take exponential time and memory).
_SCALAR_FIELDS = ("id", "title", "source", "date", "url", "author")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


class LoadError(ValueError):
    """Raised inside the loaders; turned into a Problem for the file."""


def stable_id(*parts: str) -> str:
    """A short content-derived id (sha1 of the parts)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]


def iter_files(
    paths: Iterable[Path], follow_links: bool = False
) -> Iterator[Path | Problem]:
    """Expand files and folders into article files; missing or unsupported paths are Problems.

    Inside a folder, a symbolic link that leads out of it (to ``/etc/passwd``, to a
    private folder) is a Problem naming ``--follow-links`` unless ``follow_links``; a link
    that stays inside, or loops, is skipped (what it points at is read anyway).
    """
    for path in paths:
        if not path.exists():
            yield Problem(str(path), "no such file or folder; check the path")
        elif path.is_dir():
            found = False
            for child in _folder_files(path, follow_links):
                found = True
                if isinstance(child, Problem) or child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
                else:
                    yield _unsupported(child)
            if not found:
                yield Problem(str(path), "folder holds no article files; add .md/.txt/.html/.jsonl")
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path
        else:
            yield _unsupported(path)


def _folder_files(root: Path, follow_links: bool) -> list[Path | Problem]:
    """The non-hidden files under ``root`` (sorted), links handled as iter_files says."""
    real_root = root.resolve()
    found: list[Path | Problem] = []
    seen = {real_root}  # real folders walked, so that followed links cannot loop
    for folder, dirs, files in os.walk(root, followlinks=follow_links):
        here = Path(folder)
        for name in list(dirs):
            link = _link_verdict(here / name, real_root, follow_links, seen, is_dir=True)
            if link is not None:
                dirs.remove(name)
                if isinstance(link, Problem):
                    found.append(link)
        for name in files:
            if name.startswith("."):
                continue
            child = here / name
            link = _link_verdict(child, real_root, follow_links, seen, is_dir=False)
            if link is None:
                found.append(child)
            elif isinstance(link, Problem):
                found.append(link)
    return sorted(found, key=lambda f: Path(f.origin) if isinstance(f, Problem) else f)


def _link_verdict(
    path: Path, real_root: Path, follow_links: bool, seen: set[Path], is_dir: bool
) -> Problem | bool | None:
    """None: read (or walk) ``path``; False: skip it quietly; a Problem: skip and say why."""
    if not path.is_symlink():
        if is_dir:
            seen.add(path.resolve())
        return None
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling link or a loop
        return False if is_dir else Problem(
            str(path), "broken symbolic link (its target does not exist); remove or fix it"
        )
    if target.is_relative_to(real_root):
        return False  # stays inside: what it points at is read anyway
    if not follow_links:
        return Problem(
            str(path),
            f"symbolic link to {target}, outside {real_root}; not followed (pass "
            "--follow-links to index what it points at)",
        )
    if is_dir:
        if target in seen:
            return False
        seen.add(target)
    return None


def _unsupported(path: Path) -> Problem:
    suffix = path.suffix or "(none)"
    return Problem(
        str(path), f"unsupported file type {suffix}; supported types are {SUPPORTED_LIST}"
    )


def load_path(path: Path) -> Iterator[Article | Problem]:
    """Read one file into articles (one for text/HTML, many for JSON Lines)."""
    suffix = path.suffix.lower()
    try:
        if suffix in JSONL_SUFFIXES:
            yield from _load_jsonl(path)
            return
        raw = _read_bytes(path)
        text = _decode(raw)
        if suffix in HTML_SUFFIXES:
            yield _article_from_html(path, text)
        else:
            yield _article_from_markdown(path, text)
    except LoadError as exc:
        yield Problem(str(path), str(exc))
    except OSError as exc:
        yield Problem(str(path), f"cannot read: {exc.strerror or exc}; check its permissions")


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file, nothing to index; remove it or add the article text")
    if size > MAX_ARTICLE_BYTES:
        raise LoadError(
            f"file is {size:,} bytes, over the {MAX_ARTICLE_BYTES:,}-byte limit for one "
            "article; split it or use a .jsonl corpus"
        )
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise LoadError("binary file, not text; convert it to .md, .txt, .html or .jsonl")
    return raw


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "re-save the file as UTF-8"
        ) from None


def _clean_text(text: str) -> str:
    """Normalise line endings and trailing space; keep paragraph breaks."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_ISO_SHAPE = re.compile(r"\A\d{4}-\d{2}-\d{2}")


def normalise_date(value: str, origin: str) -> str:
    """ISO dates pass; anything else unparseable is an error (never guessed).

    A date in ISO shape that no calendar has (2025-02-30, 2025-13-45) gets its own
    message: the form is right, the day is not.
    """
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError as exc:
        if _ISO_SHAPE.match(value):
            raise LoadError(
                f"date {value!r} does not exist ({exc}); fix it in {origin}"
            ) from None
        raise LoadError(
            f"date {value!r} is not an ISO date (YYYY-MM-DD); fix it in {origin}"
        ) from None


class _FrontMatterLoader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text, so an impossible one (2025-02-30) reaches
    normalise_date and its message instead of raising inside the YAML parser."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_front_matter(block: str) -> Any:
    """The front matter as Python data; every way it can fail is a LoadError."""
    try:
        return yaml.load(block, Loader=_FrontMatterLoader)  # a SafeLoader: no object tags
    except RecursionError:
        raise LoadError(
            "front matter is nested too deeply to read; keep it to key: value lines"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise LoadError(
            f"malformed YAML front matter{where}; fix it or remove the --- block"
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # An explicit tag whose value does not fit it (!!int abc, !!timestamp 2025-99-99).
        raise LoadError(
            f"front matter holds a value YAML cannot read ({exc}); fix it or quote it"
        ) from None


def _check_scalars(meta: dict[str, Any]) -> None:
    for key in _SCALAR_FIELDS:
        if isinstance(meta.get(key), (list, dict, set, tuple)):
            raise LoadError(f"field {key!r} holds a list or mapping; give it a single value")


def _make_article(
    origin: str, meta: dict[str, Any], title: str, body: str, fallback_key: str
) -> Article:
    _check_scalars(meta)
    text = _clean_text(body)
    if not text:
        raise LoadError("no article text after the title/front matter; add the text")
    if not any(ch.isalnum() for ch in text):
        raise LoadError("the article text has no words in it (only punctuation); add the text")
    url = _as_str(meta.get("url"))
    # Stable identity, so a changed article replaces its old passages: an explicit id,
    # else the URL, else the file it came from.
    article_id = _as_str(meta.get("id")) or (
        stable_id("url", url) if url else stable_id("path", fallback_key)
    )
    return Article(
        id=article_id,
        title=_as_str(title) or text.split("\n", 1)[0][:120],
        text=text,
        source=_as_str(meta.get("source")),
        date=normalise_date(_as_str(meta.get("date")), origin),
        url=url,
        origin=origin,
        author=_as_str(meta.get("author")),
    )


def _article_from_markdown(path: Path, text: str) -> Article:
    meta: dict[str, Any] = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        loaded = _load_front_matter(match.group(1))
        if loaded is not None and not isinstance(loaded, dict):
            raise LoadError("front matter is not a key: value mapping; fix the --- block")
        meta = loaded or {}
        _check_scalars(meta)
        body = text[match.end() :]
    elif text.startswith("---\n"):
        raise LoadError("front matter opened with --- but never closed; add the closing ---")
    title = _as_str(meta.get("title"))
    if not title:
        # Markdown: the first heading; plain text: the first line is the headline.
        stripped = body.lstrip()
        first, _, rest = stripped.partition("\n")
        if first.strip() and (first.startswith("#") or len(first) <= 200):
            title = first.lstrip("#").strip()
            body = rest
    return _make_article(str(path), meta, title, body, str(path.resolve()))


class _VisibleText(HTMLParser):
    """Collect the visible text of a page and its <title>."""

    _HIDDEN: ClassVar[set[str]] = {
        "script", "style", "noscript", "template", "head", "svg", "iframe",
    }
    _BLOCK: ClassVar[set[str]] = {
        "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
        "article", "header", "footer", "blockquote", "pre", "ul", "ol", "table", "hr",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.parts: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def _article_from_html(path: Path, text: str) -> Article:
    """Main text and metadata the way news scrapers read a page: trafilatura for the
    article body (no navigation, footers or headline), its metadata (OpenGraph, JSON-LD,
    ``<meta>``) for outlet, URL and author, htmldate for the publication date. A page
    trafilatura finds no article in falls back to its visible text."""
    extracted = _extract_news(text)
    if extracted is None:
        parser = _VisibleText()
        parser.feed(text)
        parser.close()
        body = "\n".join(line.strip() for line in "".join(parser.parts).split("\n"))
        title = re.sub(r"\s+", " ", parser.title).strip()
        return _make_article(str(path), {}, title, body, str(path.resolve()))
    meta, title, body = extracted
    return _make_article(str(path), meta, title, body, str(path.resolve()))


def _extract_news(html: str) -> tuple[dict[str, Any], str, str] | None:
    """(metadata, headline, body) of a news page, or None when no article text is found."""
    import htmldate
    import trafilatura

    found: Any = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True
    )
    if found is None or not (found.text or "").strip():
        return None
    title = (found.title or "").strip()
    lines = [line.strip() for line in found.text.split("\n")]
    if lines and title and lines[0].casefold() == title.casefold():
        lines = lines[1:]  # the <h1> headline is the title, not an answer sentence
    body = "\n\n".join(line for line in lines if not _is_chrome(line))
    url = _canonical_url(html) or (found.url or "")
    meta: dict[str, Any] = {
        # A site name read off a URL ("reuters.com@evil.example") names the real host.
        "source": site_name(
            found.sitename or _site_from_title(html, title) or (found.hostname or "")
        ),
        "date": htmldate.find_date(html, original_date=True, extensive_search=False)
        or (found.date or ""),
        "url": url,
        "author": found.author or "",
    }
    return meta, title, body


def _is_chrome(line: str) -> bool:
    """Leftovers of page furniture: a byline stub ("By ·") or a menu ("Home | News")."""
    if len(re.findall(r"[^\W\d_]{2,}", line)) < 2:
        return True
    items = [item for item in re.split(r"\s[|·•]\s|\s[|·•]$", line) if item.strip()]
    return len(items) >= 2 and all(len(item.split()) <= 3 for item in items)


def _canonical_url(html: str) -> str:
    """The page's own address: <link rel=canonical>, og:url or a JSON-LD article's url."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, TypeError, SyntaxError):
        return ""
    for xpath in (
        '//link[@rel="canonical"]/@href',
        '//meta[@property="og:url"]/@content',
    ):
        hits = [str(h).strip() for h in tree.xpath(xpath) if str(h).strip()]
        if hits:
            return hits[0]
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(str(script))
        except (json.JSONDecodeError, RecursionError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            page = item.get("url") or item.get("mainEntityOfPage")
            if isinstance(page, dict):
                page = page.get("@id") or page.get("url")
            if isinstance(page, str) and page.startswith("http"):
                return page
    return ""


def _site_from_title(html: str, headline: str) -> str:
    """'Council votes on tram line - Harbour Gazette' names the outlet after the headline."""
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
    if not match or not headline:
        return ""
    full = re.sub(r"\s+", " ", match.group(1)).strip()
    if not full.casefold().startswith(headline.casefold()):
        return ""
    rest = full[len(headline) :].strip()
    site = re.sub(r"^[|\-–—:·]\s*", "", rest)
    return site if site != rest and 0 < len(site) <= 60 else ""


def _load_jsonl(path: Path) -> Iterator[Article | Problem]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Problem(str(path), f"cannot read: {exc.strerror or exc}; check its permissions")
        return
    any_line = False
    with handle:
        head = handle.read(8192)
        if b"\x00" in head:
            yield Problem(str(path), "binary file, not JSON Lines; convert it to UTF-8 JSONL")
            return
        handle.seek(0)
        resolved = path.resolve()  # once, not per line (200,000-line files)
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            any_line = True
            origin = f"{path}:{number}"
            if len(raw) > MAX_ARTICLE_BYTES:
                yield Problem(
                    origin,
                    f"line is {len(raw):,} bytes, over the {MAX_ARTICLE_BYTES:,}-byte limit for "
                    "one article; split the article",
                )
                continue
            try:
                line = raw.decode("utf-8-sig")
                record = json.loads(line)
            except UnicodeDecodeError:
                yield Problem(origin, "line is not valid UTF-8; re-save the file as UTF-8")
                continue
            except json.JSONDecodeError as exc:
                yield Problem(origin, f"malformed JSON ({exc.msg}); fix or remove this line")
                continue
            except RecursionError:
                yield Problem(origin, "JSON nested too deeply to read; fix or remove this line")
                continue
            if not isinstance(record, dict):
                yield Problem(origin, 'line is not a JSON object; expected {"id", "title", "text"}')
                continue
            if record.get("text") is not None and not isinstance(record["text"], str):
                yield Problem(
                    origin, 'the "text" field must be a string; put the article text there'
                )
                continue
            try:
                _check_scalars(record)
            except LoadError as exc:
                yield Problem(origin, str(exc))
                continue
            if not _as_str(record.get("text")):
                yield Problem(origin, "no \"text\" field (or it is empty); add the article text")
                continue
            try:
                yield _make_article(
                    str(path), record, _as_str(record.get("title")), str(record["text"]),
                    f"{resolved}:{stable_id(str(record['text']))}",
                )
            except LoadError as exc:
                yield Problem(origin, str(exc))
    if not any_line:
        yield Problem(str(path), "empty file, nothing to index; add one JSON article per line")
