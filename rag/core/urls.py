"""Web addresses from untrusted articles: the host they really reach, and their identity.

``https://www.reuters.com@evil.example/`` goes to evil.example (``www.reuters.com`` is a
user name), and browsers read ``\\`` as ``/`` where Python's parser does not; a
Cyrillic ``е`` makes ``rеuters.com`` look like reuters.com. Every place that shows a
host, links a URL or compares two URLs uses this module.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Never in a plain web address: backslashes, whitespace, control characters.
_DECEPTIVE = re.compile(r"[\\\s\x00-\x1f\x7f]")
# A site name written as an address ("reuters.com@evil.example", "www.x.com:8080").
_ADDRESS_LIKE = re.compile(r"^[\w.@:\\/-]+\.[\w.@:\\/-]+$")


def web_host(url: str) -> str:
    """The host a browser reaches for ``url``, as shown to readers ("" when there is none).

    The user-info part (``name:pass@``) and the port are dropped, ``\\`` counts as ``/``
    as it does for browsers, a leading ``www.`` and a trailing dot go, and a non-ASCII
    name is shown in its ASCII (punycode) form.
    """
    try:
        host = urlsplit(url.strip().replace("\\", "/")).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".").removeprefix("www.")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    return host


def safe_url(url: str) -> str | None:
    """The URL when it is a plain web address (http/https with a host), else None.

    Not plain: a user-info part (``https://www.reuters.com@evil.example/``), a backslash,
    whitespace or control characters.
    """
    url = url.strip()
    if _DECEPTIVE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and web_host(url) and "@" not in parts.netloc:
        return url
    return None


def site_name(name: str) -> str:
    """An outlet name as shown: one written as an address becomes the host it reaches."""
    name = name.strip()
    if _ADDRESS_LIKE.match(name):
        return web_host("https://" + name.removeprefix("https://").removeprefix("http://"))
    return name


def url_key(url: str) -> str:
    """A URL as the article it names: scheme and host case, ``www.``, user info, port,
    fragment and a trailing slash do not matter."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    path = parts.path.rstrip("/")
    key = f"{web_host(url)}{path}"
    return f"{key}?{parts.query}" if parts.query else key
