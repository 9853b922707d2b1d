"""`require signoff from R1, R2 before STAGE`, `require signoff from any of R1, R2 before STAGE` and `require N
signoffs from R before STAGE`: approvals by people who held the role when they signed, not the version's author,
and not cancelled by a later rejection by a holder of that role. `any of` is met by the approvals of any one role.
`require signed signoff ...` counts signed sign-offs only (an event is signed when its data holds an "envelope").
`... independent of R3, R4`: an approval counts only from someone who held none of R3, R4 when signing and gave no
sign-off of the same version in any of them (a rejection still cancels: independence is asked of approvals)."""
from __future__ import annotations

from tiergate.decide.gates.base import MET, UNMET, Context
from tiergate.decide.gates.registry import Decider, GateKind, register
from tiergate.decide.gates.source import GateSource
from tiergate.decide.workflow import VersionState
from tiergate.inputs.events import Event, format_time
from tiergate.language.policy import Requirement


def conflict(req: Requirement, state: VersionState, ctx: Context, e: Event) -> str | None:
    """Why approval `e` is not independent of `req.independent_of`, in words (None when it is): its actor held one
    of those roles when signing (the roster then), or signed the same version in one of them (any gate, any
    decision, up to the time judged)."""
    actor = e.actor
    held = [role for role in req.independent_of if ctx.holds(actor, role, e.at)]
    if held:
        return f"{actor} also holds {', '.join(held)}"
    for (_, role), events in state.signoffs.items():
        if role in req.independent_of:
            other = next((x for x in events if x.actor == actor), None)
            if other is not None:
                return f"{actor} also signed off as {role} on this version ({other.location.place})"
    return None


def _independent(req: Requirement, state: VersionState, ctx: Context, e: Event) -> bool:
    """`conflict` decided, without words."""
    actor, independent_of = e.actor, req.independent_of
    if any(ctx.holds(actor, role, e.at) for role in independent_of):
        return False
    return not any(role in independent_of and any(x.actor == actor for x in events)
                   for (_, role), events in state.signoffs.items())


def evaluate(req: Requirement, state: VersionState, ctx: Context, mode: str | None,
             explain: bool = True) -> tuple[str, str]:
    missing, granted = [], []
    signed = req.signed  # only signed sign-offs count, approvals and rejections alike
    independent = bool(req.independent_of)
    for role in req.roles:
        approvers: list[str] = []
        notes: list[str] = []
        for e in state.signoffs.get((req.stage, role), ()):
            if signed and "envelope" not in e.data:
                if explain:
                    what = "rejection" if e.data["decision"] == "reject" else "sign-off"
                    notes.append(f"{e.actor}'s {what} does not count: it is not signed (the policy requires "
                                 "signed sign-offs)")
                continue
            holds = ctx.roster.holds(e.actor, role, e.at)
            if e.data["decision"] == "reject":
                if holds:
                    approvers = []
                    if explain:
                        notes = [f"rejected by {e.actor} at {format_time(e.at)} ({e.location.place})"]
                continue
            if e.actor == state.author:
                if explain:
                    notes.append(f"{e.actor}'s sign-off does not count: {e.actor} registered this version "
                                 f"(separation of duties)")
            elif not holds:
                if explain:
                    held = ", ".join(ctx.roster.roles_of(e.actor, e.at)) or "no role"
                    known = "" if ctx.roster.knows(e.actor) else " and is not in the roster"
                    notes.append(f"{e.actor}'s sign-off does not count: {e.actor} held {held} at "
                                 f"{format_time(e.at)}, not {role}{known}")
            elif independent and e.actor not in approvers and (why := conflict(req, state, ctx, e)) is not None:
                if explain:
                    notes.append(f"{e.actor}'s sign-off as {role} does not count: {why}")
            elif e.actor not in approvers:
                approvers.append(e.actor)
        if len(approvers) >= req.count:
            granted.append((role, approvers))
        else:
            missing.append((role, approvers, notes))
    unmet = not granted if req.any_of else bool(missing)
    if not explain:
        return (UNMET if unmet else MET), ""
    if unmet and req.any_of:
        notes = [n for _, _, role_notes in missing for n in role_notes]
        roles = ", ".join(req.roles)
        return UNMET, (f"needs an approving sign-off from any of {roles} for {req.stage} (none recorded)"
                       + "".join(f"; {n}" for n in notes))
    if missing and not req.any_of:
        texts = []
        for role, approvers, notes in missing:
            need = f"{req.count} approving sign-offs" if req.count > 1 else "an approving sign-off"
            have = f"{len(approvers)} so far" if approvers else "none recorded"
            texts.append(f"needs {need} from {role} for {req.stage} ({have})" + "".join(f"; {n}" for n in notes))
        return UNMET, "; ".join(texts)
    return MET, "approved by " + "; ".join(f"{role}: {', '.join(approvers)}" for role, approvers in granted)


def decide(req: Requirement) -> Decider:
    count = req.count
    keys = tuple(((req.stage, role), role) for role in req.roles)
    any_of = req.any_of
    signed = req.signed
    independent = bool(req.independent_of)

    def met(state: VersionState, mode: str | None, ctx: Context) -> bool:
        author = state.author
        always, timed = ctx.always, ctx.timed
        for key, role in keys:
            approvers: list[str] = []
            for e in state.signoffs.get(key, ()):
                if signed and "envelope" not in e.data:
                    continue
                actor = e.actor
                held = always.get(actor)
                holds = (held is not None and role in held) or (actor in timed and ctx.roster.holds(actor, role, e.at))
                if e.data["decision"] == "reject":
                    if holds:
                        approvers = []
                elif holds and actor != author and actor not in approvers and \
                        (not independent or _independent(req, state, ctx, e)):
                    approvers.append(actor)
            if len(approvers) >= count:
                if any_of:
                    return True
            elif not any_of:
                return False
        return not any_of

    return met


_SIGNOFFS = ("    signoffs = state.signoffs", "    author = state.author", "    always = ctx.always",
             "    timed = ctx.timed", "    roster = ctx.roster")


def code(req: Requirement, source: GateSource) -> str | None:
    if req.signed or req.independent_of:
        return None  # the decider counts signed or independent sign-offs only (the shared counts take every one)
    tests = [f"len({_approvers(source, req.stage, role)}) >= {req.count}" for role in req.roles]
    return "(" + " or ".join(tests) + ")" if req.any_of else " and ".join(tests)


def _approvers(source: GateSource, stage: str, role: str) -> str:
    """The variable holding who approved (stage, role) so far, as `evaluate` counts them: people who held the role
    when they signed, not the version's author, since the latest rejection by a holder. Counted once per gate."""

    def write(name: str) -> list[str]:
        source.needs(*_SIGNOFFS)
        key = source.const((stage, role), "K")
        return [
            f"    {name} = []",
            f"    for e in signoffs.get({key}, ()):",
            "        actor = e.actor",
            "        held = always.get(actor)",
            f"        if not ((held is not None and {role!r} in held) or",
            f"                (actor in timed and roster.holds(actor, {role!r}, e.at))):",
            "            continue",
            "        if e.data['decision'] == 'reject':",
            f"            {name} = []",
            f"        elif actor != author and actor not in {name}:",
            f"            {name}.append(actor)",
        ]

    return source.shared(("approvers", stage, role), "a", write)


register(GateKind("signoff", evaluate=evaluate, decide=decide, code=code))
