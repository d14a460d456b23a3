"""Credentials kept out of everything a run writes: URLs parsed, shown masked, and the run's
secrets searched for by value.

A database or Spark Connect URL may carry a secret in two places: the password of its user
(`postgresql://analyst:PASSWORD@host:5432/db`) and a parameter (`?password=...`,
`sc://host:443/;token=...`, `;x-databricks-token=...`). URLs are split as `urllib.parse` splits
them (the user's part ends at the *last* `@` before the host, so a password may hold an unencoded
`@`, space, quote, `<` or `>`), never by pattern: `url_parts` gives the pieces a driver is
connected from, `mask_url` shows a URL with each secret replaced by `***`, `without_secrets`
drops them (libpq then completes them from PGPASSWORD, ~/.pgpass or a service file).

A run remembers the secret *values* it is given (`remember_url`, `remember_secret`; PGPASSWORD is
always known): `scrub` replaces each, and its percent-encoded, HTML-escaped, JSON-escaped and
Python-quoted forms, with `***` (console, error messages, failed builds), and `secret_hits` says
which known secrets a text holds (the output checker refuses to publish on any). `find_secrets`
also spots a URL carrying an unmasked secret the run was never told of.

Better still, keep passwords out of URLs: PostgreSQL (libpq, under psycopg and Ibis) reads
`PGPASSWORD`, `~/.pgpass` (`PGPASSFILE`) and service files (`postgresql:///?service=NAME` or
`PGSERVICE`, in `~/.pg_service.conf`), so `postgresql://analyst@host:5432/db` needs no secret.

>>> mask_url('postgresql://analyst:p@ss w"rd@db.nhs.uk:5432/outcomes/mhsds')
'postgresql://analyst:***@db.nhs.uk:5432/outcomes/mhsds'
>>> mask_url("sc://dbc.cloud:443/;token=dapi123;x-databricks-cluster-id=0101")
'sc://dbc.cloud:443/;token=***;x-databricks-cluster-id=0101'
>>> find_secrets("see postgresql://analyst:***@host/db and postgresql://a:pw@host/db")
['postgresql://a:***@host/db']
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus, unquote, urlsplit

from outcomes.errors import UserError

__all__ = [
    "MASK", "SECRET_PARAMETERS", "MIN_SECRET_LENGTH", "UrlParts", "url_parts", "mask_url", "without_secrets",
    "has_secret", "secret_values", "find_secrets", "redact_secrets", "remember_url", "remember_secret",
    "known_secrets", "forget_secrets", "secret_forms", "scrub", "secret_hits", "ScrubbedStream",
]

#: what a secret is replaced with
MASK = "***"
#: URL parameters (query `?k=v&...`, Spark Connect `;k=v`) and libpq keywords whose values are secrets
SECRET_PARAMETERS = (
    "password", "passwd", "pwd", "sslpassword", "token", "access_token", "auth_token", "client_secret", "secret",
    "private_key_passphrase", "credentials_base64", "x-databricks-token", "api_key", "apikey",
)
#: a known secret shorter than this is masked where it is parsed but not searched for in text (a
#: two-letter password would be "found" in every page)
MIN_SECRET_LENGTH = 4
#: libpq's environment variable holding a password: a secret of every run that has it set
PGPASSWORD = "PGPASSWORD"

#: a scheme is at most 32 characters: unbounded, the search was quadratic in a run of base64 (a page
#: of embedded images took seconds); no lookbehind, so a URL after an escape (`\\npostgresql://`) is found
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://"
#: a whole URL in running text, for spotting one with a secret the run was not told of
_URL = re.compile(rf"{_SCHEME}[^\s'\"<>]+")
#: the two halves of `_URL` either side of its `://`
_SCHEME_END = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*\Z")
_URL_REST = re.compile(r"[^\s'\"<>]+")
_NAMES = "|".join(re.escape(name) for name in SECRET_PARAMETERS)
#: a secret parameter inside a URL (its value runs to the next separator)
_PARAMETER = re.compile(rf"(?P<head>[;?&](?:{_NAMES})=)(?P<secret>[^;&#]*)", re.IGNORECASE)
#: libpq's keyword form, `host=... password=...`, as a driver may quote it in an error
_KEYWORD = re.compile(rf"(?P<head>\b(?:{_NAMES})\s*=\s*)(?P<secret>'[^']*'|[^\s'\"]+)", re.IGNORECASE)


# --------------------------------------------------------------------------- one URL
@dataclass(frozen=True)
class UrlParts:
    """A URL's pieces, percent-decoded: what a driver is connected from (never the URL string)."""

    scheme: str
    user: str | None
    password: str | None
    host: str | None
    port: int | None
    path: str  #: without its leading `/` (PostgreSQL: `database/schema`)
    parameters: dict[str, str] = field(default_factory=dict)  #: query (`?k=v`) and Spark Connect (`;k=v`)


def _split(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, user info, host and port, the rest) as `urlsplit` cuts them, without raising."""
    scheme, separator, rest = str(url).partition("://")
    if not separator:
        return None
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    netloc, tail = rest[: min(ends, default=len(rest))], rest[min(ends, default=len(rest)):]
    userinfo, at, hostport = netloc.rpartition("@")
    return scheme, (userinfo if at else ""), hostport, tail


def url_parts(url: str) -> UrlParts:
    """`url` split into its decoded pieces; a bad port or a bad IPv6 address is a UserError naming
    the URL (masked)."""
    try:
        split = urlsplit(str(url))
        port = split.port
    except ValueError as error:
        raise UserError(f"the url {mask_url(url)} is not a valid URL: {error} (give host:port, a port from 1 "
                        "to 65535, and an IPv6 address in brackets)") from None
    path, _, spark = split.path.partition(";")
    parameters = {}
    for piece in [p for p in split.query.split("&") if p] + [p for p in spark.split(";") if p]:
        name, _, value = piece.partition("=")
        parameters[unquote(name)] = unquote(value)
    return UrlParts(split.scheme.lower(), unquote(split.username) if split.username else None,
                    unquote(split.password) if split.password is not None else None,
                    split.hostname, port, unquote(path.lstrip("/")), parameters)


def mask_url(url: str) -> str:
    """`url` with its password and secret parameters replaced by `***` (for showing); never raises."""
    pieces = _split(url)
    if pieces is None:
        return str(url)
    scheme, userinfo, hostport, tail = pieces
    user, colon, password = userinfo.partition(":")
    shown = f"{user}:{MASK}@" if colon and password else (f"{userinfo}@" if userinfo else "")
    tail = _PARAMETER.sub(lambda m: m["head"] + MASK, tail)
    return f"{scheme}://{shown}{hostport}{tail}"


def without_secrets(url: str) -> str:
    """`url` with its password and secret parameters removed: what libpq completes from
    PGPASSWORD, ~/.pgpass or a service file."""
    pieces = _split(url)
    if pieces is None:
        return str(url)
    scheme, userinfo, hostport, tail = pieces
    user = userinfo.partition(":")[0]
    tail = _PARAMETER.sub(lambda m: "?" if m["head"].startswith("?") else "", tail)
    tail = tail.replace("?&", "?").rstrip("?")
    return f"{scheme}://{user + '@' if user else ''}{hostport}{tail}"


def secret_values(url: str) -> list[str]:
    """The secrets `url` carries, as written and decoded (empty and masked ones left out)."""
    pieces = _split(url)
    if pieces is None:
        return []
    _, userinfo, _, tail = pieces
    found = [userinfo.partition(":")[2]] + [m["secret"] for m in _PARAMETER.finditer(tail)]
    values = [v for raw in found for v in (raw, unquote(raw), unquote(raw.replace("+", " ")))]
    return [v for v in dict.fromkeys(values) if v and v != MASK]


def has_secret(url: str) -> bool:
    """True when `url` carries an unmasked password or secret parameter."""
    return bool(secret_values(url))


# --------------------------------------------------------------------------- the run's secrets, by value
_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Add a secret value to this process's set (searched for in everything it writes)."""
    if value and value != MASK:
        with _KNOWN_LOCK:
            _KNOWN.add(str(value))


def remember_url(url: str | None) -> None:
    """Remember every secret `url` carries."""
    for value in secret_values(url or ""):
        remember_secret(value)


def forget_secrets() -> None:
    """Forget the remembered secrets (tests)."""
    with _KNOWN_LOCK:
        _KNOWN.clear()


def known_secrets() -> list[str]:
    """The secrets this process knows (remembered, and PGPASSWORD), longest first."""
    with _KNOWN_LOCK:
        values = set(_KNOWN)
    if os.environ.get(PGPASSWORD):
        values.add(os.environ[PGPASSWORD])
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=lambda v: (-len(v), v))


def _html_forms(text: str) -> set[str]:
    """`text` HTML-escaped as Python, Jinja, nbconvert and Pygments do it (named or numeric quotes)."""
    forms = {html.escape(text, quote=False), html.escape(text)}
    for quote_mark, entities in (('"', ("&quot;", "&#34;", "&#x22;")), ("'", ("&#x27;", "&#39;", "&apos;"))):
        forms |= {form.replace(entity, other) for form in list(forms) for entity in entities for other in entities}
        forms |= {form.replace(quote_mark, entity) for form in list(forms) for entity in entities}
    return forms


def secret_forms(value: str) -> set[str]:
    """`value` as it may appear in a file: raw, percent-encoded, JSON-escaped (ASCII or not),
    Python-quoted, and each of those HTML-escaped."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1],
             json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1], value.encode("unicode_escape").decode()}
    forms |= {json.dumps(form, ensure_ascii=False)[1:-1] for form in list(forms)}  # a repr inside a notebook's JSON
    forms |= {escaped for form in list(forms) for escaped in _html_forms(form)}
    return {form for form in forms if form}


def _known_forms() -> list[tuple[int, str]]:
    """(index of the secret in `known_secrets()`, form), longest forms first."""
    pairs = {(i, form) for i, value in enumerate(known_secrets()) for form in secret_forms(value)}
    return sorted(pairs, key=lambda pair: (-len(pair[1]), pair))


def secret_hits(text: str) -> list[str]:
    """Which known secrets `text` holds, in any of their forms, described without the secret
    ("secret 1 of 2 (9 characters)")."""
    text = str(text)
    secrets = known_secrets()
    hit = sorted({i for i, form in _known_forms() if form in text})
    return [f"secret {i + 1} of {len(secrets)} ({len(secrets[i])} characters)" for i in hit]


def scrub(text: str) -> str:
    """`text` with every form of every known secret replaced by `***`."""
    text = str(text)
    for _, form in _known_forms():
        if form in text:
            text = text.replace(form, MASK)
    return text


# --------------------------------------------------------------------------- secrets in text
def _urls(text: str) -> list[str]:
    """Every URL in `text`, as `_URL.finditer` finds them (leftmost, not overlapping), found from
    each `://` (a fast substring search) rather than by trying the pattern at every character:
    a page of embedded images is megabytes with a handful of URLs."""
    urls, end = [], 0
    position = text.find("://")
    while position != -1:
        if position >= end:
            window = max(end, position - 32)
            scheme = _SCHEME_END.search(text, window, position)
            rest = _URL_REST.match(text, position + 3)
            if scheme and rest:
                urls.append(text[scheme.start():rest.end()])
                end = rest.end()
        position = text.find("://", max(position + 3, end))
    return urls


def find_secrets(text: str) -> list[str]:
    """Every URL in `text` that carries an unmasked secret, shown masked (never the secret), then
    every known secret `text` holds in any form (`secret_hits`)."""
    text = str(text)
    return [mask_url(url) for url in _urls(text) if has_secret(url)] + secret_hits(text)


def redact_secrets(text: str) -> str:
    """`text` with every known secret, the secret of every URL in it and every `password=...`
    keyword masked."""
    text = scrub(text)
    return _KEYWORD.sub(lambda m: m["head"] + MASK, _URL.sub(lambda m: mask_url(m.group()), text))


class ScrubbedStream:
    """A text stream that writes through `scrub` (the console of a run that knows secrets): whole
    lines are scrubbed, so a secret split across two writes is still found."""

    def __init__(self, stream):
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending or "\r" in self._pending:
            cut = max(self._pending.rfind("\n"), self._pending.rfind("\r")) + 1
            ready, self._pending = self._pending[:cut], self._pending[cut:]
            self._stream.write(redact_secrets(ready))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact_secrets(self._pending))
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
