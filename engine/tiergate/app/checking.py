"""`check`: may a model version enter a stage now, and did its history follow the policy? From files or a ledger."""
from __future__ import annotations

from datetime import datetime

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.language.policy import Policy


def check(policy: Policy, *, answers: str | None = None, events: str | None = None, roster: str | None = None,
          ledger: str | None = None, use_case: str | None = None, version: str | None = None, to: str | None = None,
          mode: str | None = None, at: datetime | None = None, replay: bool = False):
    """Judge from an answers file, an events file and a roster file; or from a ledger, which supplies the events and,
    unless given, the roster and the registered answers of `use_case`. Every unusable input is reported at once
    (one TiergateError); nothing is judged then."""
    from tiergate.decide.check import check as judge
    from tiergate.inputs.answers import load_answers
    from tiergate.inputs.events import load_events, load_roster

    problems, loaded = [], {}
    for name, loader, path in (("answers", lambda p: load_answers(p, policy), answers),
                               ("events", load_events, events), ("roster", load_roster, roster)):
        if path is None:
            continue
        try:
            loaded[name] = loader(path)
        except TiergateError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise TiergateError(problems)
    if ledger is not None:
        loaded.update(_from_ledger(ledger, use_case or loaded["answers"].use_case, loaded))
    return judge(policy, loaded["answers"], loaded["events"], loaded["roster"], version=version, to=to, mode=mode,
                 at=at, replay=replay)


def _from_ledger(path: str, use_case: str, loaded: dict) -> dict:
    """Events, and unless given, the roster and the registered answers, from a ledger."""
    from tiergate.ledger.actions import answers_of
    from tiergate.ledger.integrity import check_use_case
    from tiergate.ledger.service import Ledger, same_roster

    out = {}
    with Ledger(path, create=False, readonly=True) as ledger:
        check_use_case(ledger.store, use_case)  # the events judged fit the hash chain (E620)
        out["events"] = ledger.events(use_case)
        stored = ledger.roster()
        if "roster" not in loaded:
            if stored is None:
                raise TiergateError(Diagnostic("E600", "the ledger holds no roster", Location(path),
                                               hint="give --roster FILE, or `tiergate roster import FILE`"))
            out["roster"] = stored
        elif stored is not None and not same_roster(loaded["roster"], stored):
            raise TiergateError(Diagnostic(
                "E630", f"the roster given ({loaded['roster'].file}) is not the roster stored in the ledger, which "
                "decides who may do what", Location(path),
                hint="leave out --roster, or store the new roster first: tiergate roster import FILE"))
        registration = ledger.registration(use_case)
        if "answers" not in loaded:
            if registration is None:
                raise TiergateError(Diagnostic("E600", f"{use_case} is not registered in the ledger", Location(path)))
            out["answers"] = answers_of(registration)
        elif registration is not None and loaded["answers"].to_dict() != answers_of(registration).to_dict():
            given = loaded["answers"]
            raise TiergateError(Diagnostic(
                "E630", f"the answers given ({given.file}) are not the answers {use_case} was registered with: the "
                "ledger judges a registered use case by its registered answers", Location(given.file),
                hint="leave out --answers; to judge other answers, register a new version with them"))
    return out
