"""Values from input made safe for the format they are written in; an ordinary value comes back unchanged.

Every renderer passes what came from input (ids, versions, names, reasons that quote them, file names)
through the function of its format. Each first tests with one precompiled regex `search` and returns the
value itself when there is nothing to escape, so reports of ordinary values cost next to nothing more and
read exactly as before. docs/ci.md ("Values from input in reports") says what each format does.

`CONTROL` (defined in tiergate.errors, which diagnostics and the id checks share) is what no report writes
raw: control characters, the line and paragraph separators, the bidirectional controls and lone surrogates.
Each is shown as a Python-style escape a reader recognises: `\\n`, `\\r`, `\\t`, else `\\x1b` below U+0100 and
`\\u2028` above. A backslash already in a value is left as it is: these forms are for reading; the JSON
formats carry every value exactly.
"""
from __future__ import annotations

import html as _html
import re

from tiergate.errors import CONTROL, UNPRINTABLE, escaped, visible

_CONTROL = UNPRINTABLE
_visible = escaped


# The fast paths use str.isprintable(): every `CONTROL` character is "Other" or "Separator" in Unicode, which
# isprintable() refuses, so a printable value holds none (a test keeps this true). It costs a third of a regex
# search, and most values are printable.

def lines(items: list[str]) -> str:
    """Lines of text joined by line feeds, each line as `text` (a printable line, as nearly every one is, holds
    nothing to escape and no line break)."""
    if all(map(str.isprintable, items)):
        return "\n".join(items)
    return "\n".join(map(text, items))


#: For plain text (terminals, logs, files): every `CONTROL` character shown as an escape, so a value is always
#: one line and sends no terminal escape sequence (the diagnostics on standard error use the same function).
text = visible


#: in Markdown: control characters; `<` that could open an HTML tag, comment or autolink (`<script`,
#: `</`, `<!--`, `<?`, `<javascript:...>`); `](` and `]:`, which make a link, an image or a link
#: definition (`[x](javascript:...)`)
_MARKDOWN = re.compile(f"[{CONTROL}]|<(?=[A-Za-z/!?])|\\](?=[(:])")


def _markdown_one(match: re.Match) -> str:
    c = match.group()
    if c == "<":
        return "&lt;"
    if c == "]":
        return "]\\"  # `]\(` and `]\:` read as the characters, and no longer make a link
    if c == "|":
        return "\\|"
    return _visible(match)


def markdown(value: object) -> str:
    """For Markdown text (a heading, a list item, a table cell, a code span): as `text`, and no raw HTML and no
    link can come from the value. Markdown emphasis and code marks are left to mean what they mean."""
    if type(value) is not str:
        value = "" if value is None else str(value)
    if value.isprintable() and "<" not in value and "]" not in value or _MARKDOWN.search(value) is None:
        return value
    return _MARKDOWN.sub(_markdown_one, value)


_MARKDOWN_CELL = re.compile(f"[{CONTROL}|]|<(?=[A-Za-z/!?])|\\](?=[(:])")


def markdown_cell(value: str) -> str:
    """For a cell of a Markdown table: as `markdown`, and `|` as `\\|` so that it does not end the cell."""
    if value.isprintable() and "|" not in value and "<" not in value and "]" not in value \
            or _MARKDOWN_CELL.search(value) is None:
        return value
    return _MARKDOWN_CELL.sub(_markdown_one, value)


#: the first characters that make a spreadsheet read a cell as a formula (OWASP's list)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell's text: as `text`, and a text that begins like a formula (`=`, `+`, `-`, `@`, tab, carriage
    return) gets a leading `'`, which spreadsheets read as "this is text". Numbers that tiergate writes as
    numbers (ints and floats, such as counts) are not text and are written as they are, `-0.5` included."""
    if type(value) is not str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        value = "" if value is None else str(value)
    if not value.isprintable() and _CONTROL.search(value) is not None:
        value = _CONTROL.sub(_visible, value)
    if value.startswith(FORMULA):
        return "'" + value
    return value


def xml(value: object) -> str:
    """For XML character data: as `text` (which also leaves out every character XML 1.0 forbids), then `&`, `<`
    and `>` as entities. (xml.sax.saxutils is imported here: it loads urllib.request and http.client, a fifth of a
    text check's start-up, for the XML reports alone.)"""
    from xml.sax.saxutils import escape

    return escape(text(value))


def xml_attribute(value: object) -> str:
    """An XML attribute value with its quotes: as `text`, then quoted (saxutils.quoteattr)."""
    from xml.sax.saxutils import quoteattr

    return quoteattr(text(value))


def html(value: object) -> str:
    """For HTML text and attribute values: as `text`, then `&`, `<`, `>`, `"` and `'` as entities."""
    return _html.escape(text(value))


def github_message(value: object) -> str:
    """The message of a GitHub Actions workflow command (after the last `::`): as `text`, so nothing starts a
    line and so no `::command::` can follow one, then `%`, CR and LF percent-encoded as GitHub reads them."""
    return text(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(value: object) -> str:
    """A property value of a workflow command (`file=`, `title=`): as `github_message`, and `:` and `,` encoded."""
    return github_message(value).replace(":", "%3A").replace(",", "%2C")


#: what JSON may hold raw in a string but a terminal or viewer would act on: DEL, C1, separators, bidi controls
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(document: str) -> str:
    """A whole JSON document with the `CONTROL` characters JSON allows raw written as `\\uXXXX` escapes: the same
    values when read, and no raw one on a terminal. (JSON writers already escape U+0000-U+001F; JSON's own
    structure is ASCII, so each such character is inside a string.)"""
    if document.isascii() and "\x7f" not in document or _JSON_RAW.search(document) is None:
        return document  # (isascii is a flag CPython keeps: most documents are known clean at once)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def mermaid(value: object) -> str:
    """Text inside a quoted Mermaid label: as `text`, and `"`, `<`, `>`, `&` and `|` as Mermaid's entity codes
    (`#quot;`...), so a value neither ends the label (an edge's label is written between `|`, and `signoff:a|b@s`
    is the id of a sign-off any of two roles may give) nor becomes HTML in it."""
    value = text(value)
    if '"' in value or "<" in value or ">" in value or "&" in value or "|" in value:
        value = (value.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
                 .replace("|", "#124;"))
    return value


def dot(value: object) -> str:
    """A Graphviz dot string with its quotes: as `text`, then `\\` and `"` escaped (so an escaped control
    character reads as `\\x1b`, not as a dot escape)."""
    return '"' + text(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
