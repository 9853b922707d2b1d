"""Ledger commands: record events (each validated before it is written), promote, import/export, status, audit."""
from __future__ import annotations

import getpass
import os
import sys
from contextlib import contextmanager
from datetime import datetime
from functools import wraps

import click

from tiergate.cli.output import (
    EXIT_FINDING,
    EXIT_INPUT,
    EXIT_OK,
    echo_diagnostics,
    emit,
    format_choice,
    load_policy_or_exit,
    plural,
    time_value,
)
from tiergate.cli.remote import server_option
from tiergate.errors import TiergateError
from tiergate.inputs.events import format_time
from tiergate.reports import formats, render


def ledger_options(func=None, *, writes: bool = True):
    """--ledger, --policy, --roster, --actor and --at, shared by every ledger command."""
    if func is None:
        return lambda f: ledger_options(f, writes=writes)
    options = [
        click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", show_envvar=True,
                     type=click.Path(dir_okay=False, path_type=str), help="Ledger file (default .tiergate/ledger.db)."),
        click.option("--policy", "policy_path", envvar="TIERGATE_POLICY", type=click.Path(dir_okay=False, path_type=str),
                     help="Policy file (default: the shipped mlops-default pack)."),
        click.option("--roster", "roster_path", envvar="TIERGATE_ROSTER", type=click.Path(dir_okay=False, path_type=str),
                     help="Roster file (default: the roster stored in the ledger)."),
        click.option("--actor", envvar="TIERGATE_ACTOR", help="Who acts (default: $TIERGATE_ACTOR, else the OS user)."),
        click.option("--at", "at", callback=time_value, help="When (RFC 3339; default: now)."),
    ]
    for option in reversed(options):
        func = option(func)

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TiergateError as exc:
            echo_diagnostics(exc.diagnostics, exc.sources, err=True)
            if writes:
                click.echo("tiergate: nothing was written", err=True)
            sys.exit(EXIT_INPUT)
    return wrapper


class _Context:
    """What every ledger command runs against: the policy, the roster given (if any), who acts, when, the ledger."""

    def __init__(self, ledger_path, policy_path, roster_path, actor, at, create=True, readonly=False, need_policy=True):
        from tiergate.app.recording import open_ledger
        from tiergate.cli.remote import server_of

        #: with --server: the service decides, under its own ledger and policy, as the token's person
        self.remote = server_of()
        self.at = at
        if self.remote is not None:
            _local_only("--ledger", "--policy", "--roster", "--actor")
            self.policy = self.roster = self.ledger = self.actor = None
            return
        self.policy = load_policy_or_exit(policy_path) if need_policy else None
        self.roster = None
        if roster_path:
            from tiergate.inputs.events import load_roster

            self.roster = load_roster(roster_path)
        self.actor = actor or os.environ.get("TIERGATE_ACTOR") or getpass.getuser()
        self.ledger = open_ledger(ledger_path, create=create, readonly=readonly)
        # closed when the command ends, however it ends (the last connection to close folds the -wal in)
        click.get_current_context().call_on_close(self.ledger.close)


@contextmanager
def reading(ledger_path):
    """The ledger, opened to be read; a ledger that cannot be used is its diagnostics and exit 2."""
    from tiergate.app.recording import open_ledger

    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            yield ledger
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)


def _local_only(*options: str) -> None:
    """With --server, options that name a local ledger, policy, roster or person are refused: the service decides
    under its own, and who acts is the token's person."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    for param in ctx.command.params:
        if param.opts and param.opts[0] in options and \
                ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{param.opts[0]} goes with a local ledger; with --server the service decides "
                                   "(and who acts is the person of $TIERGATE_TOKEN)")


def sign_option(func):
    """--sign KEYFILE (env TIERGATE_SIGNING_KEY): record the event signed with the actor's private key
    (docs/signing.md)."""
    return click.option("--sign", "sign", envvar="TIERGATE_SIGNING_KEY", show_envvar=True, metavar="KEYFILE",
                        type=click.Path(dir_okay=False, path_type=str),
                        help="Sign the event with your private key (from `tiergate key generate`).")(func)


def _pairs(items, what: str) -> dict:
    from tiergate.app.recording import assignments

    try:
        return assignments(items)
    except ValueError as exc:
        raise click.BadParameter(f"{exc.args[0]!r} is not NAME=VALUE", param_hint=what) from None


def _metrics(pairs, metrics_file) -> dict:
    from tiergate.app.recording import metrics_file as read_metrics

    metrics = {}
    if metrics_file:
        try:
            metrics.update(read_metrics(metrics_file))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--metrics") from None
    metrics.update(_pairs(pairs, "METRICS"))
    return metrics


def _remote_event(ctx: _Context, body: dict) -> dict:
    """POST /v1/events: the stored event's seq, hash and body; a refusal printed as locally, exit 2."""
    from tiergate.cli.remote import problem_exit

    status, answer = ctx.remote.call("POST", "/v1/events", body)
    if status != 201:
        problem_exit(answer, f"the server answered {status}")
    return answer


def _remote_report(remote, method: str, path: str, body: dict | None = None, query: dict | None = None) -> str:
    """A report the service writes as the command line would (its `report`); a refusal printed as locally, exit 2."""
    from tiergate.cli.remote import problem_exit

    status, answer = remote.call(method, path, body, query)
    if status != 200 or not isinstance(answer, dict) or "report" not in answer:
        problem_exit(answer, f"the server answered {status}", written="nothing was shown")
    return answer["report"]


def _say_adopted(adopted, err: bool = True) -> None:
    """Tell that the command adopted its policy (recorded before its event: policy versions, docs/ledger.md)."""
    if adopted is not None:
        p = adopted.body["policy"]
        click.echo(f"adopted policy {p['name']} {p['version']} (sha256 {p['sha256'][:12]}) as the policy in force "
                   f"(#{adopted.seq}, {adopted.hash[:12]})", err=err)


def _record(ctx: _Context, event_type: str, use_case: str, version: str, sign: str | None = None, **fields) -> None:
    from tiergate.app.recording import record

    if ctx.remote is not None:
        body = {"type": event_type, "use_case": use_case, "version": version,
                **{k: v for k, v in fields.items() if v is not None}}
        if ctx.at is not None:
            body["at"] = format_time(ctx.at)
        if isinstance(body.get("expires"), datetime):
            body["expires"] = format_time(body["expires"])
        if sign is not None:
            body = _remote_signed(ctx, body, sign)
        done = _remote_event(ctx, body)
        click.echo(f"recorded {event_type} #{done['seq']} for {use_case} {version} ({done['hash'][:12]})"
                   + (f" signed with key {body['envelope']['signatures'][0]['keyid']}" if sign else ""))
        return
    done = record(ctx.ledger, ctx.policy, ctx.roster, event_type, use_case, version, actor=ctx.actor, at=ctx.at,
                  sign=sign, **fields)
    _say_adopted(done.adopted)
    click.echo(f"recorded {event_type} #{done.seq} for {use_case} {version} ({done.hash[:12]})"
               + (f" signed with key {done.body['envelope']['signatures'][0]['keyid']}" if sign else ""))


def _remote_signed(ctx: _Context, body: dict, key_path: str) -> dict:
    """With --server: the event signed here (the private key never leaves this machine), as the service will store
    it. The client sets `at` (now, unless --at) and the actor (the token's person, GET /v1/whoami), and names the
    version's registered artifact (from its history); the service checks the signature as a local ledger does."""
    from tiergate.app.recording import signed, when
    from tiergate.cli.remote import problem_exit

    status, me = ctx.remote.call("GET", "/v1/whoami")
    if status != 200 or not isinstance(me, dict) or not isinstance(me.get("person"), str):
        problem_exit(me, f"the server answered {status}")
    status, history = ctx.remote.call("GET", f"/v1/use-cases/{_quoted(body['use_case'])}/versions/"
                                             f"{_quoted(body['version'])}")
    if status != 200 or not isinstance(history, list):
        problem_exit(history, f"the server answered {status}")
    registration = next((e for e in reversed(history)
                         if isinstance(e, dict) and e.get("type") == "registered"), {})
    event = {"at": body.get("at") or when(None), "type": body["type"], "use_case": body["use_case"],
             "version": body["version"], "actor": me["person"],
             **{k: v for k, v in body.items() if k not in ("at", "type", "use_case", "version")}}
    envelope = signed(event, key_path, registration.get("artifact"), registration.get("sha256"))["envelope"]
    return {**body, "at": event["at"], "envelope": envelope}


def _quoted(text: str) -> str:
    import urllib.parse

    return urllib.parse.quote(text, safe="")


@click.command("register")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.option("--answers", required=True, type=click.Path(dir_okay=False, path_type=str), help="The answers file.")
@click.option("--artifact", help="Where the model artifact is (URI).")
@click.option("--sha256", help="The artifact's SHA-256.")
@ledger_options
def register(use_case, version, answers, artifact, sha256, ledger_path, policy_path, roster_path, actor, at):
    """Register VERSION of USE_CASE: classify it and record the tier and the policy it was classified under."""
    from tiergate.app.recording import register as do

    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    if ctx.remote is not None:
        from tiergate.inputs.yamlsource import load_yaml

        from tiergate.fileio import INPUT_LIMIT, read_source

        document = load_yaml(read_source(answers, INPUT_LIMIT, what="answers (YAML)", code="E300"), answers).data
        body = {"type": "registered", "use_case": use_case, "version": version, "answers": document,
                **({"artifact": artifact} if artifact else {}), **({"sha256": sha256} if sha256 else {})}
        event = _remote_event(ctx, body)
        p = event["event"]["policy"]
        click.echo(f"registered {use_case} {version}: tier {event['event']['tier']} under {p['name']} "
                   f"{p['version']} (#{event['seq']}, {event['hash'][:12]})")
        return
    done = do(ctx.ledger, ctx.policy, ctx.roster, use_case, version, answers, actor=ctx.actor, at=ctx.at,
              artifact=artifact, sha256=sha256)
    _say_adopted(done.adopted)
    click.echo(f"registered {use_case} {version}: tier {done.body['tier']} under {ctx.policy.name} "
               f"{ctx.policy.version} (#{done.seq}, {done.hash[:12]})")


@click.command("evidence")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.argument("kind")
@click.argument("metrics", nargs=-1)
@click.option("--metrics", "metrics_file", type=click.Path(dir_okay=False, path_type=str),
              help="A YAML/JSON file of metrics (NAME=VALUE arguments add to it).")
@click.option("--attribute", "attributes", multiple=True, metavar="NAME.METRIC=VALUE",
              help="A metric for one attribute, e.g. gender.disparate_impact=0.91 (repeatable).")
@click.option("--uri", help="Where the evidence is kept.")
@click.option("--sha256", help="The evidence file's SHA-256.")
@sign_option
@ledger_options
def evidence(use_case, version, sign, kind, metrics, metrics_file, attributes, uri, sha256, ledger_path, policy_path,
             roster_path, actor, at):
    """Record evidence of KIND for a version, with its METRICS (NAME=VALUE ...)."""
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    per_attribute: dict = {}
    for key, value in _pairs(attributes, "--attribute").items():
        name, _, metric = key.partition(".")
        if not metric:
            raise click.BadParameter(f"{key!r} is not NAME.METRIC", param_hint="--attribute")
        per_attribute.setdefault(name, {})[metric] = value
    _record(ctx, "evidence", use_case, version, sign=sign, kind=kind, metrics=_metrics(metrics, metrics_file),
            attributes=per_attribute or None, uri=uri, sha256=sha256)


@click.command("signoff")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.option("--gate", required=True, help="The stage whose entry this approves.")
@click.option("--role", required=True, help="The role you sign in.")
@click.option("--reject", is_flag=True, help="Reject instead of approve.")
@click.option("--comment")
@sign_option
@ledger_options
def signoff(use_case, version, sign, gate, role, reject, comment, ledger_path, policy_path, roster_path, actor, at):
    """Sign off (approve or reject) a version's entry into a stage, in one of your roles."""
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    _record(ctx, "signoff", use_case, version, sign=sign, role=role, gate=gate,
            decision="reject" if reject else "approve", comment=comment)


@click.command("waive")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.argument("requirement_id")
@click.option("--until", "until", required=True, callback=time_value, help="When the waiver ends (RFC 3339).")
@click.option("--justification", required=True, help="Why it is waived.")
@sign_option
@ledger_options
def waive(use_case, version, sign, requirement_id, until, justification, ledger_path, policy_path, roster_path, actor,
          at):
    """Waive a requirement of a version until a time (no longer than the policy's `up to`)."""
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    _record(ctx, "waiver", use_case, version, sign=sign, requirement=requirement_id, justification=justification,
            expires=until)


@click.command("monitor")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.argument("kind")
@click.argument("metrics", nargs=-1, required=True)
@ledger_options
def monitor(use_case, version, kind, metrics, ledger_path, policy_path, roster_path, actor, at):
    """Record a monitoring result of KIND with its METRICS (NAME=VALUE ...)."""
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    _record(ctx, "monitoring", use_case, version, kind=kind, metrics=_pairs(metrics, "METRICS"))


@click.command("review")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.option("--role", required=True, help="The role you review in.")
@click.option("--reject", is_flag=True, help="The review finds the version no longer fit.")
@click.option("--comment")
@sign_option
@ledger_options
def review(use_case, version, sign, role, reject, comment, ledger_path, policy_path, roster_path, actor, at):
    """Record a periodic review of a version."""
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    _record(ctx, "review", use_case, version, sign=sign, role=role, decision="reject" if reject else "approve",
            comment=comment)


@click.command("retire")
@server_option
@click.argument("use_case")
@click.argument("version")
@ledger_options
def retire(use_case, version, ledger_path, policy_path, roster_path, actor, at):
    """Retire a version: no more transitions; its obligations end."""
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    _record(ctx, "retired", use_case, version)


@click.command("promote")
@server_option
@click.argument("use_case")
@click.argument("version")
@click.option("--to", "to", required=True, help="The stage to enter.")
@click.option("--mode", help="The deployment mode (shadow, canary, ab_test, full, ...).")
@format_choice("text", "json", "markdown")  # of the check's formats, those for people reading a terminal or a page
@ledger_options
def promote(use_case, version, to, mode, fmt, ledger_path, policy_path, roster_path, actor, at):
    """Move a version into a stage, only if its gate is met: otherwise nothing is written and it exits 1."""
    from tiergate.app.recording import promote as do
    from tiergate.ledger.actions import Blocked

    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    if ctx.remote is not None:
        from tiergate.cli.remote import problem_exit

        if at is not None:
            raise click.UsageError("--at goes with a local ledger: the service promotes now")
        status, answer = ctx.remote.call("POST", "/v1/promote", {"use_case": use_case, "version": version, "to": to,
                                                                 **({"mode": mode} if mode else {})},
                                         {"format": fmt})
        if status != 200:
            problem_exit(answer, f"the server answered {status}")
        emit(answer["report"])
        click.echo(f"promoted {use_case} {version} to {to} (#{answer['seq']}, {answer['hash'][:12]})", err=True)
        return
    try:
        done = do(ctx.ledger, ctx.policy, ctx.roster, use_case, version, to, mode=mode, actor=ctx.actor, at=ctx.at)
    except Blocked as blocked:
        emit(render(blocked.result, fmt))
        click.echo("tiergate: not promoted; nothing was written", err=True)
        sys.exit(EXIT_FINDING)
    emit(render(done.check, fmt))
    _say_adopted(done.adopted)
    click.echo(f"promoted {use_case} {version} to {to} (#{done.seq}, {done.hash[:12]})", err=True)


@click.command("import")
@click.argument("events_file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--answers", "answers_files", multiple=True, type=click.Path(dir_okay=False, path_type=str),
              help="Answers files for the registered use cases (repeatable).")
@click.option("--allow-violations", is_flag=True,
              help="Keep a history as it happened: import events that break the policy (a sign-off without the "
              "role, a waiver nobody could give, a step after retirement) with a warning each; "
              "`check --replay --ledger` reports them. Malformed events are still refused.")
@ledger_options
def import_(events_file, answers_files, allow_violations, ledger_path, policy_path, roster_path, actor, at):
    """Import an events file whole (or nothing), each event validated as if recorded one by one."""
    from tiergate.app.recording import import_events

    ctx = _Context(ledger_path, policy_path, roster_path, actor, at)
    done = import_events(ctx.ledger, ctx.policy, ctx.roster, events_file, answers_files,
                         allow_violations=allow_violations)
    if done.admitted:
        echo_diagnostics(done.admitted, {}, err=True)
    click.echo(f"imported {done.count} events from {events_file}; head {done.head}")


@click.command("export")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
@format_choice("jsonl", "yaml")
@click.option("--use-case", "use_case", help="Only this use case.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str))
def export(ledger_path, fmt, use_case, output):
    """Export the ledger's events (re-importing a full export into an empty ledger gives the same head)."""
    from tiergate.app.recording import open_ledger
    from tiergate.app.registry import export as do

    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            emit(do(ledger, fmt, use_case), output)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)


@click.command("status")
@server_option
@ledger_options(writes=False)
@click.option("--tier", help="Only this tier.")
@click.option("--stage", help="Only versions in this stage.")
@click.option("--owner", help="Only this owner.")
@click.option("--attention", is_flag=True, help="Only what needs action.")
@format_choice(*formats("Status"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str))
def status(ledger_path, policy_path, roster_path, actor, at, tier, stage, owner, attention, fmt, output):
    """The registry: every use case and version, its tier, stage, next gate, obligations and waivers."""
    from tiergate.app.registry import status as do

    # (no policy named: the one the ledger holds in force then judges)
    ctx = _Context(ledger_path, policy_path, roster_path, actor, at, create=False, readonly=True,
                   need_policy=policy_path is not None)
    if ctx.remote is not None:
        query = {"format": fmt, "tier": tier, "stage": stage, "owner": owner,
                 "attention": "true" if attention else None, "at": format_time(at) if at else None}
        emit(_remote_report(ctx.remote, "GET", "/v1/status", query=query), output)
        return
    emit(render(do(ctx.ledger, ctx.policy, ctx.roster, ctx.at, tier=tier, stage=stage, owner=owner,
                   attention=attention), fmt), output)


@click.command("history")
@server_option
@click.argument("use_case")
@click.argument("version", required=False)
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
@format_choice(*formats("History"))
def history(use_case, version, ledger_path, fmt):
    """The timeline of a model: who did what, when, under which policy version, with links to artifacts."""
    from urllib.parse import quote

    from tiergate.app.recording import open_ledger
    from tiergate.app.registry import history as do
    from tiergate.cli.remote import server_of

    remote = server_of()
    if remote is not None:
        if version is None:
            raise click.UsageError("with --server, give the VERSION whose history to show")
        _local_only("--ledger")
        emit(_remote_report(remote, "GET", f"/v1/use-cases/{quote(use_case, safe='')}/versions/"
                                           f"{quote(version, safe='')}", query={"format": fmt}))
        return

    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            timeline = do(ledger, use_case, version)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)
    if not timeline.entries:
        click.echo(f"tiergate: no events for {use_case}" + (f" {version}" if version else ""), err=True)
        sys.exit(EXIT_INPUT)
    emit(render(timeline, fmt))


@click.command("reclassify")
@click.option("--dry-run", is_flag=True, help="Show what would change; record nothing.")
@ledger_options
def reclassify(dry_run, ledger_path, policy_path, roster_path, actor, at):
    """Classify every registered use case again under the current policy; record where the tier changed, and where
    it stays but was decided under another policy version."""
    from tiergate.app.registry import reclassify as do

    ctx = _Context(ledger_path, policy_path, roster_path, actor, at, create=False)
    done = do(ctx.ledger, ctx.policy, actor=ctx.actor, at=ctx.at, dry_run=dry_run)
    _say_adopted(done.adopted)
    changes = done.changes
    for c in changes:
        click.echo(f"{c.use_case}: {c.old_tier} -> {c.new_tier}")
    under = f"{ctx.policy.name} {ctx.policy.version}"
    summary = f"{plural(len(changes), 'use case')} {'would change' if dry_run else 'changed'} tier under {under}"
    kept = len(done.decided) - len(changes)
    if kept:  # (decided under an older policy version: recorded, so that `status` no longer flags them)
        its = "its" if kept == 1 else "their"
        summary += f"; {plural(kept, 'other')} " + (f"would keep {its} tier" if dry_run else
                                                     f"kept {its} tier, now recorded as decided under it")
    click.echo(summary, err=True)


@click.group("roster")
def roster():
    """The roster stored in the ledger."""


@roster.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@ledger_options
def roster_import(file, ledger_path, policy_path, roster_path, actor, at):
    """Store FILE as the roster (a recorded event, so every change of roles is on the record)."""
    from tiergate.app.recording import store_roster

    ctx = _Context(ledger_path, policy_path, None, actor, at)
    done = store_roster(ctx.ledger, ctx.policy, file, actor=ctx.actor, at=ctx.at)
    _say_adopted(done.adopted)
    click.echo(f"roster stored (#{done.seq}, {done.hash[:12]}); {len(done.body['people'])} people")


@click.group("policy")
def policy():
    """The policy versions the ledger holds: adopt one, list them, print one's source."""


@policy.command("adopt")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@ledger_options
def policy_adopt(file, ledger_path, policy_path, roster_path, actor, at):
    """Record that the policy in FILE is in force from now, storing its source (and its questionnaire's)."""
    from click.core import ParameterSource

    from tiergate.app.recording import adopt

    if click.get_current_context().get_parameter_source("policy_path") is ParameterSource.COMMANDLINE:
        raise click.UsageError("the policy to adopt is FILE; leave out --policy")
    ctx = _Context(ledger_path, file, None, actor, at)
    done = adopt(ctx.ledger, ctx.policy, actor=ctx.actor, at=ctx.at)
    p = ctx.policy
    if done is None:
        click.echo(f"policy {p.name} {p.version} (sha256 {p.sha256[:12]}) is in force already; nothing was recorded")
        return
    _say_adopted(done, err=False)


@policy.command("log")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
@format_choice(*formats("PolicyLog"))
def policy_log(ledger_path, fmt):
    """Every adoption of a policy version, oldest first, and which is in force."""
    from tiergate.app.registry import policy_log as log

    with reading(ledger_path) as ledger:
        emit(render(log(ledger), fmt))


@policy.command("show")
@click.argument("sha256")
@click.option("--questionnaire", is_flag=True, help="Print the questionnaire schema the version was adopted with.")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
def policy_show(sha256, questionnaire, ledger_path):
    """Print the source of the policy version whose SHA-256 starts with SHA256, exactly as it was adopted."""
    from tiergate.app.registry import policy_source

    with reading(ledger_path) as ledger:
        text = policy_source(ledger, sha256, questionnaire=questionnaire)
    click.echo(text, nl=not text.endswith("\n"))


@click.group("audit")
def audit():
    """Check the ledger's hash chain."""


@audit.command("verify")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
@click.option("--head", "expected", help="The head hash published earlier: the ledger must still end there.")
@click.option("--checkpoint", "checkpoint", type=click.Path(dir_okay=False, path_type=str),
              help="A signed checkpoint kept earlier (audit checkpoint --out): the ledger must still extend it; "
                   "signatures are checked after it.")
def audit_verify(ledger_path, expected, checkpoint):
    """Recompute the hash chain; report the first event altered, deleted, inserted or reordered (exit 1)."""
    from tiergate.app.recording import open_ledger
    from tiergate.app.registry import verify

    if checkpoint is not None and expected is not None:
        raise click.UsageError("give --head or --checkpoint, not both")
    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            if checkpoint is not None:
                _verify_against(ledger, checkpoint)
            result = verify(ledger, expected)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)
    _say_verified(result)


def _verify_against(ledger, path: str) -> None:
    """`audit verify --checkpoint`: the checkpoint, then the ledger after it; exits."""
    from tiergate.app.checkpoints import verify_against
    from tiergate.ledger.checkpoints import describe

    found = verify_against(ledger, path)
    if found.problem is not None:
        click.echo(f"LEDGER BROKEN: {found.problem}")
        sys.exit(EXIT_FINDING)
    click.echo(f"{describe(found.checkpoint)}: the signature verifies", err=True)
    result = found.verification
    if result.ok:
        after = result.count - found.checkpoint.count
        click.echo(f"ledger intact: {result.count} events, head {result.head}; it extends the checkpoint "
                   f"(event {found.checkpoint.count}, {found.checkpoint.head[:12]}) by {plural(after, 'event')}, "
                   f"{plural(found.signed_after, 'signed event')} checked after it")
    _say_verified(result, said=result.ok)


def _say_verified(result, said: bool = False) -> None:
    if result.ok:
        if not said:
            click.echo(f"ledger intact: {result.count} events, head {result.head}")
        sys.exit(EXIT_OK)
    click.echo(f"LEDGER BROKEN: {result.problem}")
    click.echo(f"checked {result.count} events; the chain is intact up to head {result.head}", err=True)
    if result.only_the_index:
        click.echo("the index can be built again from the events: tiergate audit reindex", err=True)
    sys.exit(EXIT_FINDING)


@audit.command("checkpoint")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
@click.option("--sign", "sign", envvar="TIERGATE_SIGNING_KEY", show_envvar=True, metavar="KEYFILE", required=True,
              type=click.Path(dir_okay=False, path_type=str),
              help="The operator's private key (from `tiergate key generate`; its public key in the roster).")
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False, path_type=str),
              help="Also write the checkpoint to this file, to keep somewhere else.")
@click.option("--at", "at", callback=time_value, help="When (RFC 3339; default: now).")
def audit_checkpoint(ledger_path, sign, out, at):
    """Check the whole ledger, then record its head hash and event count, signed: a checkpoint that
    `audit verify --checkpoint` proves the ledger still extends."""
    from tiergate.app.checkpoints import make
    from tiergate.app.recording import open_ledger
    from tiergate.ledger.checkpoints import file_text

    try:
        with open_ledger(ledger_path, create=False) as ledger:
            made = make(ledger, sign, at)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        click.echo("tiergate: nothing was written", err=True)
        sys.exit(EXIT_INPUT)
    if made.seq is None:
        click.echo(f"LEDGER BROKEN: {made.verification.problem}")
        click.echo("tiergate: no checkpoint was recorded: a checkpoint vouches for an intact ledger", err=True)
        sys.exit(EXIT_FINDING)
    body = made.body
    if out is not None:
        emit(file_text(body), out)
    click.echo(f"checkpoint recorded (#{made.seq}, {made.hash[:12]}): {body['count']} events, head {body['head']}, "
               f"signed by {body['actor']} with key {made.key_id}")


@audit.command("reindex")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
def audit_reindex(ledger_path):
    """Build the index `status` reads again from the events (after `audit verify` found it wrong)."""
    from tiergate.app.recording import open_ledger
    from tiergate.app.registry import reindex

    try:
        with open_ledger(ledger_path, create=False) as ledger:
            rows, count = reindex(ledger)
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"index built again: {rows} rows from {count} events")


@audit.command("head")
@click.option("--ledger", "ledger_path", envvar="TIERGATE_LEDGER", type=click.Path(dir_okay=False, path_type=str))
def audit_head(ledger_path):
    """Print the current head hash, to publish elsewhere (e.g. in a CI log)."""
    from tiergate.app.recording import open_ledger

    try:
        with open_ledger(ledger_path, create=False, readonly=True) as ledger:
            click.echo(ledger.head())
    except TiergateError as exc:
        echo_diagnostics(exc.diagnostics, err=True)
        sys.exit(EXIT_INPUT)
