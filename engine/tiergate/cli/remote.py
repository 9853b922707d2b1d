"""The command line as a client of `tiergate serve` (`--server URL`, the token in TIERGATE_TOKEN): the same output
and exit codes as on a local ledger, the server deciding. Only the standard library: a CI pipeline needs nothing
more than tiergate itself. Any network failure, 5xx or unexpected answer exits 2 (fail closed). The HTTP modules
are imported only when a server is asked (urllib.request alone would add a third to every command's start-up)."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import click

from tiergate.cli.output import EXIT_FINDING, EXIT_INPUT, echo_diagnostics
from tiergate.errors import WARNING, Diagnostic, Location

#: how long a request may take before the command gives up (and exits 2)
TIMEOUT = 60.0


def server_option(func):
    """--server URL (env TIERGATE_SERVER): kept in the click context for the command to find (`server_of`)."""
    def remember(ctx, param, value):
        if value:
            ctx.meta["tiergate.server"] = value
        return value
    return click.option("--server", envvar="TIERGATE_SERVER", show_envvar=True, expose_value=False,
                        callback=remember, is_eager=True,
                        help="Ask this tiergate service instead of a local ledger (token in $TIERGATE_TOKEN).")(func)


def server_of() -> Remote | None:
    ctx = click.get_current_context(silent=True)
    url = ctx.meta.get("tiergate.server") if ctx is not None else None
    return Remote(url) if url else None


class Remote:
    def __init__(self, url: str):
        import urllib.parse

        self.url = url.rstrip("/")
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            fail(f"--server {url!r} is not an http:// or https:// URL")
        self.token = os.environ.get("TIERGATE_TOKEN", "").strip()
        if not self.token:
            fail("TIERGATE_TOKEN is not set: the service knows who acts by a token from `tiergate token create`")

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> tuple[int, Any]:
        """(status, JSON answer) of a request; a 4xx problem is given back, any other failure exits 2."""
        import urllib.error
        import urllib.parse
        import urllib.request

        query = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.url + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                return answer.status, _json(answer.read(), url)
        except urllib.error.HTTPError as answer:
            status, content = answer.code, _json(answer.read(), url)
            if status >= 500 or not isinstance(content, dict) or "code" not in content:
                problem_exit(content, f"the server answered {status}")
            return status, content
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            fail(f"cannot reach the server at {self.url}: {reason}")


def _json(data: bytes, url: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        fail(f"the server at {url} did not answer JSON")


def fail(message: str) -> NoReturn:
    click.echo(f"tiergate: {message}; nothing was decided", err=True)
    sys.exit(EXIT_INPUT)


def diagnostics_of(problem: dict) -> list[Diagnostic]:
    """A problem's diagnostics, as the command line prints them locally (their codes are the server's: the codes
    of the registry the server shares with this command)."""
    out = []
    for d in problem.get("errors") or []:
        if not isinstance(d, dict):
            continue
        where = Location(str(d.get("file") or "<server>"), _number(d.get("event") or d.get("line")),
                         _number(d.get("column")))
        given = str(d.get("code", "E655"))
        out.append(Diagnostic(given, str(d.get("message", "")), where,
                              WARNING if d.get("severity") == "warning" else "error", d.get("hint")))
    given = str(problem.get("code", "E655"))
    return out or [Diagnostic(given, str(problem.get("detail", "")), Location("<server>"))]


def _number(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def problem_exit(problem, fallback: str, written: str = "nothing was written") -> NoReturn:
    """Print a refusal as the local command would, and exit: 1 for a gate not met, else 2."""
    if isinstance(problem, dict) and "errors" in problem:
        if problem.get("code") == "E660" and isinstance(problem.get("report"), str):
            click.echo(problem["report"], nl=False)
            click.echo(f"tiergate: not promoted; {written}", err=True)
            sys.exit(EXIT_FINDING)
        echo_diagnostics(diagnostics_of(problem), {}, err=True)
    else:
        click.echo(f"tiergate: {fallback}", err=True)
    click.echo(f"tiergate: {written}", err=True)
    sys.exit(EXIT_INPUT)
