"""The `curl` examples of docs/api/*.md call operations that exist: each command's method and path is looked up in the
OpenAPI schema generated from the code, so the documentation cannot drift from the API.

Concrete values in a documented path (`/api/v1/sections/7/`, `/api/v1/jobs/sync.ap-invoices/run/`) match the
schema's `{param}` segments, and so does a `{param}` written in the docs. An example whose endpoint is still being
built can be marked with the HTML comment `<!-- schema-check: pending -->` on the line before its code block: it is
skipped (and says so) while the operation is missing, and checked like any other once it exists.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from drf_spectacular.generators import SchemaGenerator

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"
PENDING_MARKER = "<!-- schema-check: pending -->"
_SHELL_FENCE = re.compile(r"^```(?:bash|sh|shell|console)\b")
# curl options that take a value (the value is not the URL).
_WITH_VALUE = {
    "-X", "--request", "-H", "--header", "-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--json",
    "-F", "--form", "-o", "--output", "-u", "--user", "-w", "--write-out", "-A", "--user-agent", "-b", "--cookie",
    "-e", "--referer", "--max-time", "-m", "--connect-timeout", "--retry", "--cacert", "--cert", "--key",
}  # fmt: skip
_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--json", "-F", "--form"}


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    method: str
    path: str
    query: tuple[str, ...]
    pending: bool

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.method} {self.path}"


def _words(body: str) -> list[str]:
    lexer = shlex.shlex(body.replace("\\\n", " "), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _split(url: str) -> tuple[str, tuple[str, ...]]:
    """The path and query parameter names of a documented URL: `$ATRIUM/api/v1/x/?a=1`, `https://host/api/v1/x/`,
    or `/api/v1/x/`."""
    url = re.sub(r"^\$\{?\w+\}?", "", url)  # a shell variable holding the scheme and host
    parts = urlsplit(url if "://" in url else f"http://host{url}")
    return parts.path, tuple(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))


def curl_commands(body: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, query parameter names) of each curl command in a shell block."""
    words = _words(body)
    found: list[tuple[str, str, tuple[str, ...]]] = []
    starts = [i for i, word in enumerate(words) if word == "curl"]
    for start, end in zip(starts, [*starts[1:], len(words)][: len(starts)], strict=True):
        method, has_data, urls = "", False, []
        args = iter(words[start + 1 : end])
        for arg in args:
            if arg in _WITH_VALUE:
                value = next(args, "")
                if arg in ("-X", "--request"):
                    method = value.upper()
                has_data = has_data or arg in _DATA
            elif arg.startswith("-X") and len(arg) > 2:
                method = arg[2:].upper()
            elif not arg.startswith("-") and "/api/" in arg:
                urls.append(arg)
        assert len(urls) == 1, f"a curl command must name exactly one /api/ URL, not {urls}: {words[start:end]}"
        found.append((method or ("POST" if has_data else "GET"), *_split(urls[0])))
    return found


def documented_examples() -> list[Example]:
    examples = []
    for doc in sorted(DOCS.glob("*.md")):
        lines = doc.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            if not _SHELL_FENCE.match(lines[index]):
                index += 1
                continue
            pending = index > 0 and lines[index - 1].strip() == PENDING_MARKER
            end = next((i for i in range(index + 1, len(lines)) if lines[i].startswith("```")), len(lines))
            for method, path, query in curl_commands("\n".join(lines[index + 1 : end])):
                examples.append(Example(doc.name, index + 1, method, path, query, pending))
            index = end + 1
    return examples


EXAMPLES = documented_examples()


@pytest.fixture(scope="module")
def operations() -> dict[tuple[str, str], set[str]]:
    """(schema path as a regular expression, method) → the operation's query parameter names. A `{param}` in a
    path is one path segment."""
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return {
        ("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$", method.upper()): {
            parameter["name"] for parameter in operation.get("parameters", []) if parameter.get("in") == "query"
        }
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_the_docs_have_curl_examples():
    assert len(EXAMPLES) >= 10
    assert {e.file for e in EXAMPLES} >= {"howto.md", "tokens.md"}


def test_the_parser_reads_methods_paths_and_continuations():
    body = """export ATRIUM=https://portal.example.com   # not a curl
curl -sS -X PATCH "$ATRIUM/api/v1/sections/1/?fields=id" \\
  -H "Authorization: Bearer $T" -d '{"a": "b #1"}'
curl -sS https://portal.example.com/api/v1/tokens/
curl -d '{}' -H 'Content-Type: application/json' "$ATRIUM/api/v1/jobs/sync.x/run/"
"""
    assert curl_commands(body) == [
        ("PATCH", "/api/v1/sections/1/", ("fields",)),
        ("GET", "/api/v1/tokens/", ()),
        ("POST", "/api/v1/jobs/sync.x/run/", ()),
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_every_curl_example_calls_an_operation_of_the_schema(
    example: Example, operations: dict[tuple[str, str], set[str]]
):
    matching = {key: names for key, names in operations.items() if re.match(key[0], example.path)}
    allowed = {method for _, method in matching}
    if example.method in allowed:
        known = set().union(*(names for (_, method), names in matching.items() if method == example.method))
        unknown = [name for name in example.query if name not in known]
        assert not unknown, f"{example}: the schema has no query parameter {unknown} (it has {sorted(known)})"
        return
    problem = f"{example}: the schema has no such path" if not allowed else f"{example}: the path allows only {allowed}"
    if example.pending:
        pytest.skip(f"pending ({PENDING_MARKER}): {problem}")
    pytest.fail(
        f"{problem}. Fix the example, or, if its endpoint is still being built, put {PENDING_MARKER} on the line "
        "before its code block."
    )
