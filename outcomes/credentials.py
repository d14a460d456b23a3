"""Credentials kept out of everything a run writes: URLs shown masked, secrets found in text.

A database or Spark Connect URL may carry a secret in two places: the password of its user
(`postgresql://analyst:PASSWORD@host:5432/db`) and a parameter (`?password=...`,
`sc://host:443/;token=...`). `mask_url` replaces each with `***`, which is how a URL is shown in
messages, logs, manifests and notebook parameters; `find_secrets` spots an unmasked one in any
text (the report's disclosure checker refuses to publish a folder holding one) and
`redact_secrets` masks every one in a text (for error messages from drivers).

Better still, keep passwords out of URLs: PostgreSQL (libpq, under psycopg and Ibis) reads
`PGPASSWORD`, `~/.pgpass` (`PGPASSFILE`) and service files (`postgresql:///?service=NAME` or
`PGSERVICE`, in `~/.pg_service.conf`), so `postgresql://analyst@host:5432/db` needs no secret.

Hand-written (a few regular expressions over `urllib.parse`): no library both masks and
detects secrets in URLs across PostgreSQL and Spark Connect syntax.

>>> mask_url("postgresql://analyst:s3cret@db.nhs.uk:5432/outcomes/mhsds")
'postgresql://analyst:***@db.nhs.uk:5432/outcomes/mhsds'
>>> mask_url("sc://dbc.cloud:443/;token=dapi123;x-databricks-cluster-id=0101")
'sc://dbc.cloud:443/;token=***;x-databricks-cluster-id=0101'
>>> find_secrets("see postgresql://analyst:***@host/db and postgresql://a:pw@host/db")
['postgresql://a:***@host/db']
"""

from __future__ import annotations

import re

__all__ = ["MASK", "SECRET_PARAMETERS", "mask_url", "without_secrets", "has_secret", "find_secrets", "redact_secrets"]

#: what a secret is replaced with
MASK = "***"
#: URL parameters (query `?k=v&...` or Spark Connect `;k=v`) whose values are secrets
SECRET_PARAMETERS = ("password", "passwd", "pwd", "sslpassword", "token", "access_token", "client_secret", "secret")

#: a scheme is at most 32 characters: unbounded, the search was quadratic in a run of base64 (a page
#: of embedded images took seconds); no lookbehind, so a URL after an escape (`\\npostgresql://`) is found
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://"
#: scheme://user:password@ (the password is anything up to the last @ before the host)
_USERINFO = re.compile(rf"(?P<head>{_SCHEME}[^\s/@:'\"<>]*:)(?P<secret>[^\s/@'\"<>]+)(?P<tail>@)")
_PARAMETER = re.compile(
    rf"(?P<head>[;?&](?:{'|'.join(SECRET_PARAMETERS)})=)(?P<secret>[^;&\s'\"<>]+)", re.IGNORECASE
)
#: a whole URL, for reporting where a secret was found
_URL = re.compile(rf"{_SCHEME}[^\s'\"<>]+")
#: the two halves of `_URL` either side of its `://`
_SCHEME_END = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*\Z")
_URL_REST = re.compile(r"[^\s'\"<>]+")
#: libpq's keyword form, `host=... password=...`, as a driver may quote it in an error
_KEYWORD = re.compile(rf"(?P<head>\b(?:{'|'.join(SECRET_PARAMETERS)})\s*=\s*)(?P<secret>'[^']*'|[^\s'\"]+)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """`url` with its password and secret parameters replaced by `***` (for showing)."""
    return _PARAMETER.sub(lambda m: m["head"] + MASK, _USERINFO.sub(lambda m: m["head"] + MASK + m["tail"], str(url)))


def without_secrets(url: str) -> str:
    """`url` with its password and secret parameters removed: what libpq completes from
    PGPASSWORD, ~/.pgpass or a service file."""
    url = _USERINFO.sub(lambda m: m["head"][:-1] + m["tail"], str(url))
    url = _PARAMETER.sub(lambda m: "?" if m["head"].startswith("?") else "", url)
    return url.replace("?&", "?").rstrip("?")


def has_secret(url: str) -> bool:
    """True when `url` carries an unmasked password or secret parameter."""
    return any(m["secret"] != MASK for p in (_USERINFO, _PARAMETER) for m in p.finditer(str(url)))


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
    """Every URL in `text` that carries an unmasked secret, shown masked (never the secret)."""
    return [mask_url(url) for url in _urls(str(text)) if has_secret(url)]


def redact_secrets(text: str) -> str:
    """`text` with the secret of every URL in it, and every `password=...` keyword, masked."""
    return _KEYWORD.sub(lambda m: m["head"] + MASK, _URL.sub(lambda m: mask_url(m.group()), str(text)))
