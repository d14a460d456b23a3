"""Executed notebooks as self-contained HTML pages, and a check that no page loads anything remote.

NHS secure environments have no internet, so a report page may not load a script, style, font or
image from another host. nbconvert's `lab` template pulls require.js, MathJax and mermaid from a
CDN; the template here (`outcomes/report/templates/notebook_page.html.j2`, with the inline image
check `image_check.html` the front page shares) extends `lab` and drops those blocks, hides code (`exclude_input`), embeds figures (outputs are already base64;
`embed_images` inlines markdown images), drops stderr streams from the page (they stay in the
.ipynb), removes cells tagged `remove-cell` and outputs tagged `remove-output`, and adds a bar
linking back to the report's index. LaTeX in markdown is shown as typed (no MathJax offline).
"""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from pathlib import Path

from outcomes.resources import templates_dir

__all__ = ["render_notebook", "prepare_rendering", "notebook_title", "external_references", "NOTEBOOK_TEMPLATE"]

#: the template of a notebook's page, in outcomes/report/templates/
NOTEBOOK_TEMPLATE = "notebook_page.html.j2"


def notebook_title(nb, fallback: str) -> str:
    """The notebook's `title` metadata, else its first markdown heading, else `fallback`."""
    title = nb.metadata.get("title")
    if title:
        return str(title)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = re.match(r"^\s*#{1,3}\s+(.+?)\s*#*\s*$", line)
                if match:
                    return match.group(1)
    return fallback


_EXPORTER: list = []  #: the one exporter (its template compiled once), shared by the report's workers
_EXPORTER_LOCK = threading.Lock()  #: pages are rendered one at a time (0.04 s each), whatever the thread


def prepare_rendering() -> None:
    """Import nbconvert, build the exporter and compile its template now (1-2 s), so that the first
    page rendered does not wait for it: the report calls it while its kernels start."""
    from nbformat.v4 import new_notebook

    with _EXPORTER_LOCK:
        _exporter().from_notebook_node(new_notebook(), resources={"outcomes": {}})


def _exporter():
    """The shared exporter (call with `_EXPORTER_LOCK` held)."""
    if not _EXPORTER:
        _EXPORTER.append(_new_exporter())
    return _EXPORTER[0]


def _new_exporter():
    from jinja2 import FileSystemLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

    class DropStderr(Preprocessor):
        """Warnings and logs on stderr stay in the .ipynb, not on the published page."""

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.get("name") == "stderr")]
            return cell, resources

    exporter = HTMLExporter(
        template_name="lab",
        template_file=NOTEBOOK_TEMPLATE,
        extra_loaders=[FileSystemLoader(templates_dir())],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    tags = TagRemovePreprocessor(remove_cell_tags={"remove-cell", "remove_cell"},
                                 remove_all_outputs_tags={"remove-output", "remove_output"})
    exporter.register_preprocessor(tags, enabled=True)
    exporter.register_preprocessor(DropStderr(), enabled=True)
    return exporter


def render_notebook(ipynb: Path, html: Path, *, report_title: str, index_href: str, resource_path: Path | None = None,
                    kernelspec: dict | None = None, published_path: str | None = None) -> str:
    """Write `ipynb` as a self-contained HTML page at `html`; return the page's title.

    `kernelspec` (the kernel it really ran on) and `published_path` (its path in the report) are
    first written into the executed notebook's metadata: papermill leaves the notebook's own
    kernelspec and the build folder's path there.
    """
    import nbformat

    nb = nbformat.read(ipynb, as_version=4)
    if kernelspec or published_path:
        if kernelspec:
            nb.metadata["kernelspec"] = kernelspec
        if published_path and "papermill" in nb.metadata:
            nb.metadata["papermill"]["output_path"] = published_path
        nbformat.write(nb, ipynb)
    title = notebook_title(nb, ipynb.stem)
    resources = {
        "metadata": {"name": title, "path": str(resource_path or ipynb.parent)},
        "outcomes": {"report_title": report_title, "index_href": index_href, "page_title": title},
    }
    with _EXPORTER_LOCK:
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body, encoding="utf-8")
    return title


# ----------------------------------------------------------------------------- offline check
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)  # http://, https://, //host
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+['\"]([^'\"]+)", re.IGNORECASE)
_LOADING_ATTRIBUTES = {"src", "srcset", "data", "poster", "background", "xlink:href", "action", "formaction"}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []  # (where, url): things the browser fetches
        self.links: list[str] = []  # <a href>: fetched only if followed
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "href" and tag in ("a", "area"):
                self.links.append(value)
            elif name == "href" or name in _LOADING_ATTRIBUTES:  # <link href>, <base href>, <image href>
                for part in value.split(",") if name == "srcset" else [value]:
                    self.loads.append((f"<{tag} {name}>", part.strip().split(" ")[0]))
            elif name == "style":
                self._css(value, tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data, "style")

    def _css(self, css: str, where: str) -> None:
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
        for url in _CSS_URL.findall(css) + _CSS_IMPORT.findall(css):
            self.loads.append((f"<{where}> url()", url.strip()))


def external_references(html: str, *, include_links: bool = False) -> list[str]:
    """Everything in a page that would be fetched from another host (http(s):// or //host), as
    'where url' strings; with `include_links`, also `<a href>`s leaving the folder."""
    parser = _References()
    parser.feed(html)
    parser.close()
    found = [f"{where} {url}" for where, url in parser.loads if _REMOTE.match(url)]
    if include_links:
        found += [f"<a href> {link}" for link in parser.links if _REMOTE.match(link)]
    return found


def relative_links(html: str) -> list[str]:
    """The `<a href>`s of a page that point inside the report (not anchors, not mailto:)."""
    parser = _References()
    parser.feed(html)
    parser.close()
    return [link for link in parser.links
            if link and not link.startswith("#") and not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)
            and not _REMOTE.match(link)]
