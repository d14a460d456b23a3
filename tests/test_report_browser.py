"""End to end: the published report opened in headless Chromium with the network blocked.

The report folder is served from 127.0.0.1 and each page loaded with `--dump-dom`, DNS for every
other host mapped to nowhere, and Chromium's net log recording every request. For each page:

* every request the page made (net-log requests whose network isolation key is the test server's
  site) went to 127.0.0.1, and no request at all went to a host other than 127.0.0.1 and
  Chromium's own update/account services (which the browser contacts by itself, whatever the page);
* every request the server saw was answered 200;
* every <img> decoded (the page's inline check sets `data-broken-images="0"` and
  `data-images` on <body> after the load event; the dumped DOM carries them);
* every link in the page points at a file in the folder.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_report import good_report  # noqa: F401 - the shared, session-scoped report fixture

from outcomes.report.render import relative_links

pytestmark = pytest.mark.browser

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
#: hosts Chromium itself contacts in the background (component updates, accounts, time); never a page's doing
BROWSER_SERVICE_DOMAINS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com", "googleusercontent.com")


def _chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class _Server:
    """The report folder served on 127.0.0.1, remembering (path, status) of every request."""

    def __init__(self, folder: Path):
        self.requests: list[tuple[str, int]] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                server.requests.append((self.path, int(code) if str(code).isdigit() else 0))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _load(chromium: str, url: str, tmp: Path) -> tuple[str, dict]:
    """(dumped DOM, net log) of one page load."""
    netlog = tmp / "netlog.json"
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
        "--disable-extensions", "--no-first-run", "--no-default-browser-check", "--mute-audio",
        f"--user-data-dir={tmp / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--log-net-log={netlog}", "--virtual-time-budget=10000", "--dump-dom", url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, json.loads(netlog.read_text())


def _requests(netlog: dict) -> list[dict]:
    """Every URL request in a net log: url, initiator, network isolation key."""
    names = {number: name for name, number in netlog["constants"]["logEventTypes"].items()}
    found = []
    for event in netlog.get("events", []):
        params = event.get("params") or {}
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            found.append({"url": params["url"], "initiator": params.get("initiator", ""),
                          "nik": params.get("network_isolation_key", "")})
    return found


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def test_report_opens_offline_in_chromium(good_report, tmp_path):  # noqa: F811
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/system-packages installs it)")
    folder = Path(good_report["folder"])
    pages = ["index.html"] + sorted(p.relative_to(folder).as_posix() for p in (folder / "notebooks").glob("*.html"))
    with _Server(folder) as server:
        origin = f"http://127.0.0.1:{server.port}"
        for number, page in enumerate(pages):
            work = tmp_path / f"page{number}"
            work.mkdir()
            dom, netlog = _load(chromium, f"{origin}/{page}", work)

            body = re.search(r"<body([^>]*)>", dom)
            assert body, f"{page}: no <body> in the dumped DOM"
            attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
            assert attributes.get("data-loaded") == "yes", f"{page}: the load event never fired"
            assert attributes.get("data-broken-images") == "0", f"{page}: {attributes.get('data-broken-images')} image(s) did not load"
            static = (folder / page).read_text()
            assert int(attributes["data-images"]) == len(re.findall(r"<img\b", static)), page
            if page == "index.html":
                assert int(attributes["data-images"]) >= 1, "index.html should show the key figures"

            requests = _requests(netlog)
            from_page = [r for r in requests if "127.0.0.1" in r["nik"] or r["initiator"].startswith(origin)]
            assert any(r["url"] == f"{origin}/{page}" for r in from_page), f"{page}: the page load is not in the net log"
            offsite = [r["url"] for r in from_page if _host(r["url"]) != "127.0.0.1"]
            assert offsite == [], f"{page} requested other hosts: {offsite}"
            elsewhere = [r["url"] for r in requests
                         if _host(r["url"]) != "127.0.0.1" and not _host(r["url"]).endswith(BROWSER_SERVICE_DOMAINS)]
            assert elsewhere == [], f"requests to other hosts while loading {page}: {elsewhere}"

            for link in relative_links(static):
                target = (folder / page).parent / link.split("#")[0]
                assert target.resolve().is_file(), f"{page} links to missing {link}"
    assert server.requests, "the server saw no requests"
    assert all(status == 200 for _, status in server.requests), server.requests
