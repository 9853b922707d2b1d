"""`tiergate check` fails closed: an internal error or unusable input exits 2, and nothing is allowed.

Each internal failure is injected into a check that would otherwise be ALLOWED: an evaluator, an obligation
evaluator, `tiergate.decide.check.check` itself, and each renderer. The command is run in-process (CliRunner) and
through the installed entry point `tiergate.cli.run` in a fresh interpreter.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tiergate.decide.check
from tiergate.decide.gates.registry import REGISTRY
from tiergate.cli import main
from tiergate.reports import FORMATS

RENDERERS = {fmt: tuple(where.split(":")) for fmt, where in FORMATS["CheckResult"].items()}
from tiergate.language.requirements import KINDS

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "mlops-default.policy"
ANSWERS = ROOT / "examples" / "use-cases" / "churn-dashboard.yaml"
ROSTER = ROOT / "examples" / "roster.yaml"
AT = "2026-02-08T00:00:00Z"


def churn(at, type_, actor="sam", **fields):
    return {"at": at, "type": type_, "use_case": "churn-dashboard", "version": "2.1", "actor": actor, **fields}


#: A scheduled use case with every requirement for deployment met: `--to deployment` is ALLOWED.
EVENTS = [
    churn("2026-02-01T09:00:00Z", "registered"),
    churn("2026-02-01T10:00:00Z", "transition", to="ideation"),
    churn("2026-02-02T10:00:00Z", "transition", to="development"),
    churn("2026-02-05T11:00:00Z", "transition", to="preproduction"),
    churn("2026-02-06T09:00:00Z", "evidence", kind="metrics_record", metrics={"auc": 0.81}),
    churn("2026-02-06T09:10:00Z", "evidence", kind="environment_recreation", metrics={}),
    churn("2026-02-06T09:20:00Z", "evidence", kind="model_documentation", metrics={}),
    churn("2026-02-06T09:30:00Z", "evidence", kind="automated_checks", metrics={"failed": 0}),
    churn("2026-02-07T09:00:00Z", "signoff", "bea", role="business_stakeholder", gate="deployment",
          decision="approve"),
]
#: ... and then deployed and monitored: `--to monitoring` is ALLOWED, with obligations to evaluate.
DEPLOYED = EVENTS + [
    churn("2026-02-07T10:00:00Z", "transition", to="deployment", mode="canary"),
    churn("2026-02-07T20:00:00Z", "monitoring", "paula", kind="infrastructure_alerts", metrics={"alerts": 0}),
]
NAMES = ["RuntimeError", "KeyError"]
NOT_ALLOWED = ("nothing was decided, so nothing is allowed", "nothing was checked, so nothing is allowed")


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return {
        "events": write("events.jsonl", "".join(json.dumps(e) + "\n" for e in EVENTS)),
        "deployed": write("deployed.jsonl", "".join(json.dumps(e) + "\n" for e in DEPLOYED)),
        "write": write,
    }


def check_args(files, *extra, events="events", to="deployment") -> list[str]:
    args = ["check", "--policy", str(POLICY), "--answers", str(ANSWERS), "--events", files[events],
            "--roster", str(ROSTER), "--at", AT]
    if to is not None:
        args += ["--to", to]
    return args + list(extra)


def invoke(runner, args: list[str]):
    """Run the command in-process; it may only end by exiting (an escaping exception would be a crash)."""
    result = runner.invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def assert_fails_closed(code: int, stdout: str, stderr: str, say: str) -> None:
    assert code == 2, (stdout, stderr)
    assert "ALLOWED" not in stdout and "ALLOWED" not in stderr
    assert "Traceback" not in stdout and "Traceback" not in stderr
    assert say in stderr
    assert any(phrase in stderr for phrase in NOT_ALLOWED), stderr


# --- the unpatched checks are allowed -------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_the_check_is_allowed_when_nothing_breaks(cli_runner, files, fmt):
    result = invoke(cli_runner, check_args(files, "--format", fmt))
    assert result.exit_code == 0, result.output
    if fmt == "text":
        assert result.stdout.startswith("ALLOWED: churn-dashboard 2.1 may enter deployment")
    result = invoke(cli_runner, check_args(files, "--format", fmt, events="deployed", to="monitoring"))
    assert result.exit_code == 0, result.output


# --- internal errors, in-process ------------------------------------------------------------------

def _raise(exc: BaseException):
    def boom(*args, **kwargs):
        raise exc

    return boom


@pytest.mark.parametrize("kind", ["evidence", "signoff"])
@pytest.mark.parametrize("exc", [RuntimeError("evaluator exploded"), KeyError("metrics")], ids=NAMES)
def test_a_failing_gate_evaluator_allows_nothing(cli_runner, files, monkeypatch, kind, exc):
    monkeypatch.setitem(REGISTRY, kind, dataclasses.replace(REGISTRY[kind], evaluate=_raise(exc)))
    result = invoke(cli_runner, check_args(files))
    assert isinstance(result.exception, SystemExit)
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        f"tiergate: internal error during the check: {type(exc).__name__}: {exc}")
    assert result.stdout == ""


@pytest.mark.parametrize("exc", [RuntimeError("obligation exploded"), KeyError("period")], ids=NAMES)
def test_a_failing_obligation_evaluator_allows_nothing(cli_runner, files, monkeypatch, exc):
    monkeypatch.setitem(REGISTRY, "monitoring", dataclasses.replace(REGISTRY["monitoring"], obligation=_raise(exc)))
    result = invoke(cli_runner, check_args(files, events="deployed", to="monitoring"))
    assert_fails_closed(result.exit_code, result.stdout, result.stderr, f"{type(exc).__name__}: {exc}")
    assert result.stdout == ""


@pytest.mark.parametrize("exc", [RuntimeError("check exploded"), KeyError("tier"), TypeError("bad operand"),
                                 RecursionError("too deep")], ids=lambda e: type(e).__name__)
def test_a_failing_check_allows_nothing(cli_runner, files, monkeypatch, exc):
    monkeypatch.setattr(tiergate.decide.check, "check", _raise(exc))
    result = invoke(cli_runner, check_args(files))
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        f"tiergate: internal error during the check: {type(exc).__name__}: {exc}")
    assert result.stdout == ""


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@pytest.mark.parametrize("exc", [RuntimeError("renderer exploded"), KeyError("status")], ids=NAMES)
def test_a_failing_renderer_allows_nothing(cli_runner, files, monkeypatch, fmt, exc):
    module, function = RENDERERS[fmt]
    monkeypatch.setattr(f"tiergate.reports.{module}.{function}", _raise(exc))
    result = invoke(cli_runner, check_args(files, "--format", fmt))
    assert_fails_closed(result.exit_code, result.stdout, result.stderr, f"{type(exc).__name__}: {exc}")
    assert result.stdout == ""


def test_a_failing_loader_allows_nothing(cli_runner, files, monkeypatch):
    import tiergate.inputs.events

    monkeypatch.setattr(tiergate.inputs.events, "load_roster", _raise(MemoryError()))
    result = invoke(cli_runner, check_args(files))
    assert_fails_closed(result.exit_code, result.stdout, result.stderr, "internal error during the check: MemoryError")


def test_a_report_that_cannot_be_written_allows_nothing(cli_runner, files, tmp_path):
    out = tmp_path / "missing" / "folder" / "report.xml"
    result = invoke(cli_runner, check_args(files, "--format", "junit", "--output", str(out)))
    assert result.exit_code == 2
    assert "ALLOWED" not in result.output and "Traceback" not in result.output
    assert not out.exists()


# --- internal errors, through the entry point in a fresh interpreter ------------------------------

DRIVER = r"""
import sys

patch, *args = sys.argv[1:]


class Boom(BaseException):
    "Not an Exception: only the entry point's last line of defence catches it."


def boom(exc):
    def raise_(*a, **k):
        raise exc
    return raise_


if patch == "evaluator":
    import dataclasses
    from tiergate.decide.gates.registry import REGISTRY
    REGISTRY["evidence"] = dataclasses.replace(REGISTRY["evidence"], evaluate=boom(RuntimeError("evaluator exploded")))
elif patch == "evaluator-keyerror":
    import dataclasses
    from tiergate.decide.gates.registry import REGISTRY
    REGISTRY["signoff"] = dataclasses.replace(REGISTRY["signoff"], evaluate=boom(KeyError("decision")))
elif patch == "check":
    import tiergate.decide.check
    tiergate.decide.check.check = boom(RuntimeError("check exploded"))
elif patch == "renderer":
    import tiergate.reports.check
    tiergate.reports.check.as_text = boom(KeyError("verdict"))
elif patch == "base-exception":
    import tiergate.reports.check
    tiergate.reports.check.as_text = boom(Boom("not an Exception"))
sys.argv = ["tiergate", *args]
from tiergate.cli import run
run()
"""


def run_entry_point(patch: str, args: list[str], **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("TIERGATE_DEBUG", "TIERGATE_POLICY", "TIERGATE_ROSTER")}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", DRIVER, patch, *args], capture_output=True, text=True, cwd=ROOT,
                          env=environ, timeout=120)


def test_the_entry_point_allows_when_nothing_breaks(files):
    done = run_entry_point("none", check_args(files))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ALLOWED: churn-dashboard 2.1 may enter deployment")


@pytest.mark.parametrize(("patch", "say"), [
    ("evaluator", "tiergate: internal error during the check: RuntimeError: evaluator exploded"),
    ("evaluator-keyerror", "tiergate: internal error during the check: KeyError: 'decision'"),
    ("check", "tiergate: internal error during the check: RuntimeError: check exploded"),
    ("renderer", "tiergate: internal error during the check: KeyError: 'verdict'"),
])
def test_the_entry_point_fails_closed(files, patch, say):
    done = run_entry_point(patch, check_args(files))
    assert_fails_closed(done.returncode, done.stdout, done.stderr, say)
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1] == "tiergate: nothing was decided, so nothing is allowed"


def test_the_entry_point_catches_what_the_command_does_not(files):
    """A BaseException that is no Exception passes the command's handler; `run` still exits 2."""
    done = run_entry_point("base-exception", check_args(files))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == ["tiergate: internal error: Boom: not an Exception",
                                        "tiergate: nothing was decided; set TIERGATE_DEBUG=1 to see where it failed"]


def test_debug_mode_shows_the_traceback_and_still_does_not_exit_0(files):
    done = run_entry_point("base-exception", check_args(files), TIERGATE_DEBUG="1")
    assert done.returncode not in (0, None)
    assert "Traceback" in done.stderr and "ALLOWED" not in done.stdout


# --- unusable input: exit 2, with the place --------------------------------------------------------

def test_invalid_answers(cli_runner, files):
    text = ANSWERS.read_text(encoding="utf-8").replace("availability: scheduled", "availability: sometimes")
    answers = files["write"]("answers.yaml", text)
    line = text.splitlines().index("  availability: sometimes") + 1
    args = check_args(files)
    args[args.index("--answers") + 1] = answers
    result = invoke(cli_runner, args)
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        f"{answers}:{line}: error[E303]: $.answers.availability is \"sometimes\"; allowed: ")
    assert result.stdout == ""


def test_invalid_events(cli_runner, files):
    bad = dict(EVENTS[4], at="2026-02-06 09:00")
    events = files["write"]("bad.jsonl", "".join(json.dumps(e) + "\n" for e in EVENTS[:4] + [bad] + EVENTS[5:]))
    args = check_args(files)
    args[args.index("--events") + 1] = events
    result = invoke(cli_runner, args)
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        f'{events}:5: error[E400]: event evidence $.at is "2026-02-06 09:00", not an RFC 3339 time '
                        f"with an offset")


def test_invalid_roster(cli_runner, files):
    roster = files["write"]("roster.yaml", "people:\n  bea: [business_stakeholder]\n  rita: risk_audit\n")
    args = check_args(files)
    args[args.index("--roster") + 1] = roster
    result = invoke(cli_runner, args)
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        f"{roster}:3: error[E410]: roster $.people.rita: 'risk_audit' is not of type 'array'")


def test_every_invalid_input_is_reported_at_once(cli_runner, files):
    answers = files["write"]("answers.yaml", "use_case: churn-dashboard\nanswers: [1]\n")
    events = files["write"]("events.yaml", "- at: [\n")
    roster = files["write"]("roster.yaml", "people: 3\n")
    result = invoke(cli_runner, ["check", "--policy", str(POLICY), "--answers", answers, "--events", events,
                                      "--roster", roster, "--to", "deployment", "--at", AT])
    assert result.exit_code == 2
    for path in (answers, events, roster):
        assert f"{path}:" in result.stderr
    assert "ALLOWED" not in result.output and "Traceback" not in result.output


def test_a_missing_file(cli_runner, files, tmp_path):
    args = check_args(files)
    args[args.index("--roster") + 1] = str(tmp_path / "nobody.yaml")
    result = invoke(cli_runner, args)
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        f"{tmp_path / 'nobody.yaml'}: error[E001]: file not found")


def test_an_unknown_target_stage(cli_runner, files):
    result = invoke(cli_runner, check_args(files, to="preprod"))
    assert_fails_closed(result.exit_code, result.stdout, result.stderr,
                        "--to: error[E421]: `preprod` is not a stage of workflow `default`\n  hint: did you mean "
                        "`preproduction`?")


@pytest.mark.parametrize("at", ["2026-02-08T00:00:00", "2026-02-08", "tomorrow", "2026-02-30T00:00:00Z"])
def test_a_bad_at_time(cli_runner, files, at):
    args = check_args(files)
    args[args.index("--at") + 1] = at
    result = invoke(cli_runner, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Invalid value for '--at': {at!r} is not an RFC 3339 time with an offset" in result.stderr
    assert "Traceback" not in result.output


def test_mode_without_to_is_a_usage_error(cli_runner, files):
    result = invoke(cli_runner, check_args(files, "--mode", "canary", to=None))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error: --mode goes with --to" in result.stderr
    assert "Usage: " in result.stderr


# --- every requirement kind can be evaluated -------------------------------------------------------

def test_every_requirement_kind_has_an_evaluator():
    gate_evaluated = {name for name, hooks in REGISTRY.items() if hooks.evaluate is not None}
    obligation_evaluated = {name for name, hooks in REGISTRY.items() if hooks.obligation is not None}
    for name, kind in KINDS.items():
        if kind.relation == "before":
            assert name in gate_evaluated, name
            assert name not in obligation_evaluated, name
        elif kind.relation == "after":
            assert name in obligation_evaluated, name
            assert name not in gate_evaluated, name
        else:
            assert name not in gate_evaluated and name not in obligation_evaluated
    evaluated = gate_evaluated | obligation_evaluated
    assert evaluated <= set(KINDS)
    assert {k for k, v in KINDS.items() if v.relation} == evaluated
