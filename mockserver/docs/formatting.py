"""Small HTML formatters the templates use: Markdown prose, highlighted JSON, paths with their parameters.

Each returns :class:`markupsafe.Markup`, built from escaped text only, so a spec can never inject HTML
into a page (raw HTML in Markdown is escaped too).
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Iterable

from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

_JSON_TOKEN = re.compile(
    r'(?P<string>"(?:\\.|[^"\\])*")(?P<colon>\s*:)?'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)
_CODE_SPAN = re.compile(r"<code>([^<]{1,200})</code>")
_OPERATION_WORDS = re.compile(r"^(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS) (/\S*)$")


def _text(value: str) -> str:
    return escape(value, quote=False)


def pretty_json(value: Any) -> str:
    """The value as the documentation prints it: two-space indented JSON, non-ASCII kept as is."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def json_html(value: Any) -> Markup:
    """Pretty JSON with keys, strings, numbers and literals in their own ``<span>`` for colouring.

    The characters are exactly those of :func:`pretty_json`: copying from the page gives valid JSON.
    """
    text = pretty_json(value)
    out, pos = [], 0
    for match in _JSON_TOKEN.finditer(text):
        out.append(_text(text[pos:match.start()]))
        if match["string"] is not None:
            kind = "key" if match["colon"] else "str"
            out.append(f'<span class="j-{kind}">{_text(match["string"])}</span>{_text(match["colon"] or "")}')
        elif match["number"] is not None:
            out.append(f'<span class="j-num">{match["number"]}</span>')
        else:
            out.append(f'<span class="j-lit">{match["literal"]}</span>')
        pos = match.end()
    out.append(_text(text[pos:]))
    return Markup("".join(out))


def value_html(value: Any) -> Markup:
    """A string verbatim (a file's content, a raw body), anything else as highlighted JSON."""
    if isinstance(value, str):
        return Markup(_text(value))
    return json_html(value)


def inline_value(value: Any) -> str:
    """A short value for a table cell: strings bare, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def path_html(path: str) -> Markup:
    """A path template with its ``{parameters}`` marked, so they stand out from the literal segments."""
    parts = re.split(r"(\{[^}]+\})", path)
    return Markup("".join(
        f'<span class="path-param">{_text(part)}</span>' if part.startswith("{") else _text(part)
        for part in parts
    ))


class Linker:
    """Turns code spans that name something on the page (a schema, an example, an operation) into links."""

    def __init__(
        self,
        schemas: Iterable[str] = (),
        examples: Iterable[str] = (),
        operations: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        self.targets: dict[str, str] = {}
        for name in examples:
            self.targets[name] = f"#example-{name}"
        for name in schemas:
            self.targets[name] = f"#schema-{name}"
        for operation_id, method, path in operations:
            self.targets[operation_id] = f"#{operation_id}"
            self.targets[f"{method.upper()} {path}"] = f"#{operation_id}"

    def __call__(self, html: str) -> str:
        if not self.targets:
            return html

        def link(match: re.Match[str]) -> str:
            # The span's text is escaped HTML; names and paths contain nothing that escaping changes.
            target = self.targets.get(match[1])
            if target is None and (words := _OPERATION_WORDS.match(match[1])):
                target = self.targets.get(f"{words[1]} {words[2]}")
            return f'<a class="ref" href="{target}">{match[0]}</a>' if target else match[0]

        return _CODE_SPAN.sub(link, html)


def markdown(text: str, linker: Linker | None = None) -> Markup:
    """A spec description (CommonMark, raw HTML escaped) as HTML, with names on the page linked."""
    if not text:
        return Markup("")
    html = _MARKDOWN.render(text)
    return Markup(linker(html) if linker else html)


def markdown_inline(text: str, linker: Linker | None = None) -> Markup:
    """One line of Markdown without the surrounding paragraph."""
    if not text:
        return Markup("")
    html = _MARKDOWN.renderInline(text)
    return Markup(linker(html) if linker else html)


def first_sentence(text: str) -> str:
    """The first sentence of a description, for summaries where the whole text would be too much."""
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match[1] if match else text
