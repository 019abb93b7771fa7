"""The one HTML page that plan and drift reports share. Pure: a data mapping in, a string out.

The page is self-contained: its CSS and JS are inline and a Content-Security-Policy allows
nothing else (no network, no other script: the inline ones are allowed by their hash, so a
name that somehow escaped its quoting still could not run). The report's data is embedded as
JSON in ``<script type="application/json">`` and drawn in the browser by ``html/report.js``,
lazily, so that a plan of 100,000 changes opens as fast as one of ten. Live names reach the
page only inside that JSON (``<``, ``>`` and ``&`` escaped, so ``</script>`` in a folder name
cannot close the tag) and the script writes them with ``textContent``, never as markup.

The data contract (what ``report.js`` reads):

* ``report``: ``"plan"`` or ``"drift"``; ``title``; ``meta``: ``[label, value]`` pairs.
* ``verdict``: ``{"level": "ok" | "warn" | "danger", "text": ...}``.
* ``categories``: ``[{"key", "label", "marker", "symbol", "danger"}]`` in display order; every entry's
  ``c`` is one of these keys. ``danger`` categories form the red zone of the summary bar.
* ``kinds``: the address kinds present, for the filter; ``columns``: the two diff column
  titles; ``words``: the report's nouns and headings (see ``render_html.WORDS``).
* ``nodes``: ``[names, how]``: a place in the tree (a list of names) and how entries hang
  on it (``self``, ``access``, ``item``, ``link``); entries name it by index.
* ``entries``: one per change (or drift entry), short keys because there may be 100,000:
  ``a`` address, ``c`` category, ``n`` node index, and optional ``d`` 1 when destructive,
  ``p`` previous/live address, ``s`` file:line, ``r`` reason, ``x`` actions, ``f`` field
  diff rows ``[path, op, before, after]``, ``b``/``af`` before/after (JSON values), ``w``
  warnings (refusal notes), ``e`` extra lines.
* ``refusals``: ``[{"code", "message", "addresses", "withheld", "count", "todo"}]``.
* ``notes``: ``[{"title", "lines"}]``: deferrals, unmanaged folders, incomplete reads.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from reconciler.model import addresses as addr

# Characters that must not appear raw inside a <script> element or a JS string literal (<, >,
# &, U+2028, U+2029), and those that hide or reorder text, so the page's source reads true too.
_SCRIPT_UNSAFE_RE = re.compile("[<>&\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# As report.js's HIDDEN: characters that would hide or reorder text.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")

ROOT_FOLDERS = "Folders"
ROOT_DATASETS = "Datasets"
ROOT_GROUPS = "Groups"
ROOT_ORG = "Organisation"


@cache
def _asset(name: str) -> str:
    return (resources.files("reconciler.plan") / "html" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def embed_json(data: Mapping[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">`` (and inside a JS literal)."""
    text = json.dumps(
        data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain
    )
    return _SCRIPT_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class Nodes:
    """The table of tree places, so that 100,000 entries in one folder share one row."""

    def __init__(self) -> None:
        self._index: dict[tuple[tuple[str, ...], str], int] = {}

    def index(self, address: str, path: str | None = None) -> int:
        return self._index.setdefault(tree_node(address, path), len(self._index))

    def rows(self) -> list[list[Any]]:
        return [[list(parts), how] for parts, how in self._index]


def visible(text: str) -> str:
    """Escaped for HTML, with control, bidi and zero-width characters shown as ⟨U+XXXX⟩ (as
    ``report.js`` shows them), so a name can neither hide text nor reorder it."""
    return html.escape(_HIDDEN.sub(lambda m: f"⟨U+{ord(m.group(0)):04X}⟩", text))


def first_paint(data: Mapping[str, Any]) -> str:
    """The title, the verdict and the counts as plain HTML, drawn before the data is even
    parsed (a large plan's JSON takes the browser seconds); the script replaces it."""
    counts = Counter(entry["c"] for entry in data["entries"])
    zones = {True: "", False: ""}
    for cat in data["categories"]:
        n = counts[cat["key"]]
        zones[cat["danger"]] += (
            f'<span class="pill{"" if n else " zero"}"><span class="count">{n:,}</span>'
            f'<span class="label">{visible(cat["label"])}</span></span>'
        )
    verdict = data["verdict"]
    return (
        f'<div id="first-paint"><header class="head"><h1>{visible(data["title"])}</h1>'
        f'<p class="verdict {verdict["level"]}">{visible(verdict["text"])}</p></header>'
        '<section class="summary"><div class="zone danger"><h2>Destructive</h2>'
        f'{zones[True]}</div><div class="zone safe"><h2>{visible(data["words"]["other"])}</h2>'
        f"{zones[False]}"
        f'</div></section><p class="loading">Drawing {len(data["entries"]):,} entries…</p></div>'
    )


def _plain(value: Any) -> Any:
    """Views are mappings and tuples; anything else is a bug worth a clear error."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot embed {type(value).__name__} in a report")


def page(data: Mapping[str, Any], *, title: str, fallback: str) -> str:
    """The whole document. ``fallback`` is the plain summary shown when scripts are off."""
    css, js = _asset("report.css"), _asset("report.js")
    policy = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{css}</style>\n</head>\n<body>\n"
        f'<noscript><p class="noscript">{html.escape(fallback)} '
        "(Turn on JavaScript to see the details.)</p></noscript>\n"
        f"{first_paint(data)}\n"
        '<div id="app" aria-live="polite"></div>\n'
        f'<script type="application/json" id="report-data">{embed_json(data)}</script>\n'
        f"<script>{js}</script>\n</body>\n</html>\n"
    )


@lru_cache(maxsize=4096)  # items share their folder: split each folder path once
def _folder_parts(path: str) -> tuple[str, ...]:
    return (ROOT_FOLDERS, *(part for part in path.split("/") if part))


def tree_node(address: str, path: str | None = None) -> tuple[tuple[str, ...], str]:
    """Where an address hangs in the report's tree, and how: its own node (``self``), the
    access of a folder or dataset (``access``), or rolled up as an item or a link.

    ``path`` is the object's path when a view gives it (safer than parsing a name that
    contains ``#``)."""
    parsed = addr.Address.parse(address)
    kind, key = parsed.kind, parsed.key
    if kind in (addr.Kind.FOLDER, addr.Kind.ITEM):
        where = path if path is not None else key
        if kind == addr.Kind.FOLDER:
            return _folder_parts(where), "self"
        return _folder_parts(where.rpartition("/")[0]), "item"
    if kind == addr.Kind.FOLDER_GROUP:
        return _folder_parts(key), "access"
    if kind in (addr.Kind.GROUP, addr.Kind.DATASET):
        return (ROOT_GROUPS if kind == addr.Kind.GROUP else ROOT_DATASETS, key), "self"
    if kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER):
        return (ROOT_DATASETS, key), "access"
    if kind == addr.Kind.LINK:
        return (ROOT_DATASETS, key), "link"
    if kind == addr.Kind.USER:
        return (ROOT_ORG, "users", key), "self"
    return (ROOT_ORG, "metadata schema"), "self"


def categories(
    labels: Sequence[tuple[str, str, str, str]], danger: frozenset[str]
) -> list[dict[str, Any]]:
    """``(key, label, marker, symbol)`` rows as the page's category list."""
    return [
        {"key": key, "label": label, "marker": marker, "symbol": symbol, "danger": key in danger}
        for key, label, marker, symbol in labels
    ]
