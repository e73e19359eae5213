"""Saved news pages in the shapes real outlets publish come out as news: outlet, date,
URL, author and clean text (no navigation, footer, byline or headline in the text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.schema import Article, Problem
from rag.indexing.loaders import load_path

OPENGRAPH = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Storm closes port of Valencia | Ledger Wire</title>
<meta property="og:site_name" content="Ledger Wire">
<meta property="og:title" content="Storm closes port of Valencia">
<meta property="og:type" content="article">
<meta property="og:url" content="https://ledgerwire.example/world/2026/02/24/storm-valencia">
<meta property="article:published_time" content="2026-02-24T07:15:00+00:00">
<meta name="author" content="Marta Ruiz">
<link rel="canonical" href="https://ledgerwire.example/world/2026/02/24/storm-valencia">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article>
<h1>Storm closes port of Valencia</h1>
<p class="byline">By Marta Ruiz</p>
<p>A winter storm closed the port of Valencia on Tuesday, stranding forty container ships
off the Spanish coast as winds reached 110 kilometres an hour.</p>
<p>Port authorities said operations would resume once the gusts dropped below 60
kilometres an hour, probably on Thursday morning.</p>
<p>The regional government opened three emergency shelters for dock workers who could not
get home after the coastal road flooded.</p>
</article></main>
<aside><h2>Most read</h2><ul><li><a href="/x">Celebrity wedding photos</a></li></ul></aside>
<footer><p>Copyright 2026 Ledger Wire. All rights reserved.</p><a href="/privacy">Privacy</a>
</footer></body></html>"""

JSON_LD = """<html><head><title>Quake hits | Courier Daily</title>
<script type="application/ld+json">{"@context": "https://schema.org",
 "@type": "NewsArticle", "headline": "Quake shakes northern Chile",
 "datePublished": "2026-01-12T22:40:00-03:00", "dateModified": "2026-01-14T08:00:00-03:00",
 "author": {"@type": "Person", "name": "Ana Soto"},
 "publisher": {"@type": "Organization", "name": "Courier Daily"},
 "mainEntityOfPage": {"@type": "WebPage", "@id": "https://courier.example/2026/quake-chile"}}
</script></head><body>
<div class="nav">Home | News | Sport | Weather</div>
<div class="story"><h1>Quake shakes northern Chile</h1>
<p>A magnitude 6.8 earthquake struck near Antofagasta on Monday night, the national
seismology centre said.</p>
<p>No tsunami warning was issued and the mines in the region reported no damage to their
shafts.</p>
<p>Residents of Calama spent the night outdoors as aftershocks continued until dawn.</p></div>
<div class="footer">Copyright 2026 Courier Daily Media Group. Terms | Privacy | Contact</div>
</body></html>"""

TIME_TAG = """<html><head><title>Council votes on tram line - Harbour Gazette</title></head>
<body><nav><a href="/">Home</a> | <a href="/local">Local</a></nav>
<article><header><h1>Council votes on tram line</h1>
<p>By <span class="author">Tom Hale</span> ·
<time datetime="2025-11-03T18:05:00Z">3 November 2025</time></p></header>
<p>The city council approved the eastern tram extension by 31 votes to 12 on Monday
evening.</p>
<p>Construction of the 4.2-kilometre line is due to start next spring and cost 180 million
euros.</p>
<p>Opponents said the route would cut through the old market square and promised to
appeal.</p></article>
<footer>© 2025 Harbour Gazette</footer></body></html>"""


def _load(tmp_path: Path, html: str) -> Article:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    got = list(load_path(path))
    assert len(got) == 1 and isinstance(got[0], Article), got
    return got[0]


def _no_chrome(article: Article) -> None:
    for junk in ("Home", "Sport", "Copyright", "Privacy", "Most read", "Celebrity"):
        assert junk not in article.text, junk
    assert not article.text.startswith(article.title)  # the headline is not body text
    assert "By " not in article.text.split("\n", 1)[0]


def test_opengraph_page(tmp_path: Path) -> None:
    article = _load(tmp_path, OPENGRAPH)
    assert article.title == "Storm closes port of Valencia"
    assert article.source == "Ledger Wire"
    assert article.date == "2026-02-24"
    assert article.url == "https://ledgerwire.example/world/2026/02/24/storm-valencia"
    assert article.author == "Marta Ruiz"
    assert article.text.startswith("A winter storm closed the port of Valencia")
    assert "three emergency shelters" in article.text
    _no_chrome(article)


def test_json_ld_news_article(tmp_path: Path) -> None:
    article = _load(tmp_path, JSON_LD)
    assert article.title == "Quake shakes northern Chile"
    assert article.source == "Courier Daily"
    assert article.date == "2026-01-12"  # published, not modified
    assert article.url == "https://courier.example/2026/quake-chile"
    assert article.author == "Ana Soto"
    assert "magnitude 6.8 earthquake" in article.text
    _no_chrome(article)


def test_time_datetime_page(tmp_path: Path) -> None:
    article = _load(tmp_path, TIME_TAG)
    assert article.title == "Council votes on tram line"
    assert article.source == "Harbour Gazette"
    assert article.date == "2025-11-03"
    assert "31 votes to 12" in article.text
    _no_chrome(article)


def test_same_url_is_same_article(tmp_path: Path) -> None:
    """The canonical URL gives the article its identity, wherever the file is saved."""
    first = _load(tmp_path, OPENGRAPH)
    other = tmp_path / "copy"
    other.mkdir()
    assert _load(other, OPENGRAPH).id == first.id


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Nothing</title><script>x()</script></head><body></body></html>",
        "<html><body><nav>Home | News</nav></body></html>",
    ],
)
def test_pages_without_an_article_are_problems(tmp_path: Path, html: str) -> None:
    path = tmp_path / "empty.html"
    path.write_text(html, encoding="utf-8")
    got = list(load_path(path))
    assert len(got) == 1 and isinstance(got[0], Problem)
    assert "add" in got[0].message  # names the fix
