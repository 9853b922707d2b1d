"""`check`: may a model version enter a stage now, and did its history follow the policy? From files or a ledger."""
from __future__ import annotations

from datetime import datetime

from tiergate.errors import Diagnostic, Location, TiergateError
from tiergate.language.policy import Policy


def check(policy: Policy | None, *, answers: str | None = None, events: str | None = None, roster: str | None = None,
          ledger: str | None = None, use_case: str | None = None, version: str | None = None, to: str | None = None,
          mode: str | None = None, at: datetime | None = None, replay: bool = False):
    """Judge from an answers file, an events file and a roster file; or from a ledger, which supplies the events and,
    unless given, the roster and the registered answers of `use_case`. Every unusable input is reported at once
    (one TiergateError); nothing is judged then.

    From a ledger, a replay judges each past transition under the policy and the roster in force at its time
    (ledger/inforce.py); with `at`, the ledger answers as of that time (between its first event and now), with the
    roster in force then. With no `policy`, the one the ledger holds in force at `at` (or the latest adopted) judges;
    without a ledger either, the shipped default pack."""
    from tiergate.decide.check import check as judge
    from tiergate.inputs.answers import load_answers
    from tiergate.inputs.events import load_events, load_roster

    if policy is None:
        policy = _ledger_policy(ledger, at)
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
    eras = None
    if ledger is not None:
        loaded.update(_from_ledger(ledger, use_case or loaded["answers"].use_case, loaded, policy, at))
        policy, eras = loaded.pop("policy"), loaded.pop("eras")
    return judge(policy, loaded["answers"], loaded["events"], loaded["roster"], version=version, to=to, mode=mode,
                 at=at, replay=replay, eras=eras)


def _ledger_policy(path: str | None, at: datetime | None) -> Policy:
    from tiergate.language.load import load_policy
    from tiergate.ledger.inforce import policy_in_force
    from tiergate.ledger.service import Ledger

    if path is None:
        return load_policy()
    with Ledger(path, create=False, readonly=True) as ledger:
        return policy_in_force(ledger, at)


def _from_ledger(path: str, use_case: str, loaded: dict, policy: Policy, at: datetime | None) -> dict:
    """Events, the policy and the eras to judge under, and unless given, the roster and the registered answers,
    from a ledger."""
    from tiergate.ledger.actions import answers_of
    from tiergate.ledger.inforce import bounded, in_force
    from tiergate.ledger.integrity import check_use_case
    from tiergate.ledger.service import Ledger, now, same_roster

    out = {}
    with Ledger(path, create=False, readonly=True) as ledger:
        if at is not None:
            bounded(ledger, at, now())
        check_use_case(ledger.store, use_case)  # the events judged fit the hash chain (E620)
        out["events"] = ledger.events(use_case)
        forces = in_force(ledger, policy, at, loaded.get("roster"))
        out["policy"], out["eras"] = forces.policy, forces.for_replay()
        stored = forces.roster if forces.roster is not loaded.get("roster") else None
        if "roster" not in loaded:
            if stored is None:
                raise TiergateError(Diagnostic("E600", "the ledger holds no roster", Location(path),
                                               hint="give --roster FILE, or `tiergate roster import FILE`"))
            out["roster"] = stored
        elif stored is not None:
            if not same_roster(loaded["roster"], stored):
                raise TiergateError(Diagnostic(
                    "E630", f"the roster given ({loaded['roster'].file}) is not the roster stored in the ledger, "
                    "which decides who may do what", Location(path),
                    hint="leave out --roster, or store the new roster first: tiergate roster import FILE"))
            out["roster"] = stored  # (the same roles: the eras' own object)
        registration = ledger.registration(use_case)
        if "answers" not in loaded:
            if registration is None:
                raise TiergateError(Diagnostic("E422", f"{use_case} is not registered in the ledger", Location(path),
                                               hint="check the use case id: `tiergate status` lists them"))
            out["answers"] = answers_of(registration)
        elif registration is not None and loaded["answers"].to_dict() != answers_of(registration).to_dict():
            given = loaded["answers"]
            raise TiergateError(Diagnostic(
                "E630", f"the answers given ({given.file}) are not the answers {use_case} was registered with: the "
                "ledger judges a registered use case by its registered answers", Location(given.file),
                hint="leave out --answers; to judge other answers, register a new version with them"))
    return out
