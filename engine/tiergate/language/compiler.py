"""Syntax tree -> Policy, in named, ordered stages that each read what the previous ones built.

The order matters: names must be known before inheritance can follow `extends`; inheritance must
be resolved before stages are checked (a tier inherits requirements and may pick another
workflow); the questionnaire is read last among the checks because only well-named rules are
worth checking against it; nothing is built into a Policy while any stage reported an error.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable

from tiergate.language import conditions
from tiergate.errors import ERROR, WARNING, Diagnostic, Location, TiergateError, did_you_mean
from tiergate.language.policy import Consideration, Dropped, Policy, RaciRow, Requirement, Rule, Tier, Workflow
from tiergate.language.questionnaire_schema import SchemaView, literal_fits, parse_schema, read_schema
from tiergate.language.requirements import KINDS, line_text, requirement_id
from tiergate.resources import display, schema_path
from tiergate.language import ast
from tiergate.language.gcpause import paused_gc

SETTINGS = ("description", "questionnaire")
SINGLE = {ast.PolicyDecl: "policy", ast.TiersDecl: "tiers", ast.RolesDecl: "roles",
          ast.ClassifyDecl: "classify", ast.RaciDecl: "raci"}


@dataclass
class Compilation:
    """What the stages share: the syntax tree, what each stage found, and the diagnostics."""

    module: ast.Module
    base_dir: Path | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    header: ast.PolicyDecl | None = None
    tier_order: list[ast.Name] = field(default_factory=list)
    tier_names: dict[str, ast.Name] = field(default_factory=dict)  # the same tiers, for a lookup by name
    roles: dict[str, ast.Name] = field(default_factory=dict)
    workflows: dict[str, ast.WorkflowDecl] = field(default_factory=dict)
    considerations: dict[str, ast.ConsiderationDecl] = field(default_factory=dict)
    classify: ast.ClassifyDecl | None = None
    tier_blocks: dict[str, ast.TierDecl] = field(default_factory=dict)
    raci: ast.RaciDecl | None = None
    built_workflows: dict[str, Workflow] = field(default_factory=dict)
    # tier name -> (attributes, requirement nodes with their ids, declaring tier)
    resolved: dict[str, tuple[dict, list[tuple[str, ast.RequirementNode, str]]]] = field(default_factory=dict)
    # tier name -> the inherited (id, node, declaring tier) it leaves out, each with its `drop` and the dropping tier
    dropped: dict[str, list] = field(default_factory=dict)
    #: the questionnaire's text when it is given rather than read from its file (a policy stored in a ledger)
    schema_source: str | None = None
    schema: dict | None = None
    schema_file: str = ""
    _stages: dict[str, tuple[ast.WorkflowDecl, dict[str, None]]] = field(default_factory=dict)
    _all_stages: dict[str, None] | None = None
    _sorted_stages: list[str] | None = None
    #: names a hint may still compare a misspelt name with (see suggest)
    suggestions_left: int = 100_000

    @property
    def file(self) -> str:
        return self.module.file

    def error(self, code: str, message: str, loc: Location, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, loc, ERROR, hint))

    def warn(self, code: str, message: str, loc: Location, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, loc, WARNING, hint))

    def suggest(self, name: str, candidates, what: str = "") -> str | None:
        """The hint for an unknown name: the closest candidate (did_you_mean), or the candidates when there are few.

        Each hint compares the name with every candidate, so a policy with thousands of unknown names among
        thousands of declared ones would cost their product. The comparisons are counted: past
        `suggestions_left` of them, only short lists of candidates are still offered.
        """
        if len(candidates) > 12:
            if self.suggestions_left < len(candidates):
                return None
            self.suggestions_left -= len(candidates)
        return did_you_mean(name, candidates, what)

    @property
    def failed(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    @property
    def tiers(self) -> list[str]:
        return list(self.tier_names)

    def stages_of(self, workflow: ast.WorkflowDecl) -> dict[str, None]:
        """A workflow's stages in order of first appearance (a dict: a lookup by name), found once."""
        found = self._stages.get(workflow.name.value)
        if found is None or found[0] is not workflow:
            found = self._stages[workflow.name.value] = (workflow, _stages(workflow))
        return found[1]

    @property
    def sorted_stages(self) -> list[str]:
        """Every stage of every workflow, in alphabetical order (for hints)."""
        if self._sorted_stages is None:
            self._sorted_stages = sorted(self.all_stages)
        return self._sorted_stages

    @property
    def all_stages(self) -> dict[str, None]:
        """Every stage of every workflow."""
        if self._all_stages is None:
            self._all_stages = {s: None for w in self.workflows.values() for s in self.stages_of(w)}
        return self._all_stages


# --- stage 1: declarations ------------------------------------------------------------------

def collect_declarations(c: Compilation) -> None:
    statements = c.module.statements
    seen_single: dict[str, Location] = {}
    if not statements:
        c.error("E200", "the policy is empty", Location(c.file, 1, 1),
                hint='start with a header: policy "NAME" version "1.0.0":')
        return
    if not isinstance(statements[0], ast.PolicyDecl) and any(isinstance(st, ast.PolicyDecl) for st in statements):
        c.error("E200", "a policy must start with its `policy` header", statements[0].loc,
                hint='put `policy "NAME" version "1.0.0":` first')
    for st in statements:
        single = SINGLE.get(type(st))
        if single:
            if single in seen_single:
                first = seen_single[single]
                c.error("E201", f"`{single}` is declared a second time (first at line {first.line})", st.loc,
                        hint=f"a policy has one `{single}` statement; merge them")
                continue
            seen_single[single] = st.loc
        if isinstance(st, ast.PolicyDecl):
            c.header = st
            seen = set()
            for s in st.settings:
                if s.key.value not in SETTINGS:
                    c.error("E204", f"unknown policy setting `{s.key}`", s.key.loc,
                            hint=c.suggest(s.key.value, SETTINGS, "settings"))
                elif s.key.value in seen:
                    c.error("E202", f"setting `{s.key}` is given twice", s.key.loc)
                elif s.value.kind != "string":
                    c.error("E252", f"setting `{s.key}` takes a double-quoted string", s.value.loc)
                seen.add(s.key.value)
        elif isinstance(st, ast.TiersDecl):
            for name in st.names:
                if name.value in c.tier_names:
                    c.error("E202", f"tier `{name}` is listed twice", name.loc)
                else:
                    c.tier_order.append(name)
                    c.tier_names[name.value] = name
        elif isinstance(st, ast.RolesDecl):
            for name in st.names:
                if name.value in c.roles:
                    c.error("E202", f"role `{name}` is listed twice", name.loc)
                else:
                    c.roles[name.value] = name
        elif isinstance(st, ast.WorkflowDecl):
            _declare(c, c.workflows, st.name, st, "workflow")
        elif isinstance(st, ast.ConsiderationDecl):
            _declare(c, c.considerations, st.name, st, "consideration")
        elif isinstance(st, ast.ClassifyDecl):
            c.classify = st
        elif isinstance(st, ast.TierDecl):
            _declare(c, c.tier_blocks, st.name, st, "tier block")
        elif isinstance(st, ast.RaciDecl):
            c.raci = st
    end = Location(c.file)  # something missing belongs to the whole file, not to its last line
    if c.header is None and statements:
        c.error("E200", "the policy has no `policy` header", statements[0].loc,
                hint='put `policy "NAME" version "1.0.0":` first')
    if not c.tier_order and "tiers" not in seen_single:
        c.error("E203", "the policy declares no tiers", end, hint="add a line such as `tiers low < high`")
    if c.classify is None:
        c.error("E203", "the policy has no `classify` block", end,
                hint="add `classify:` with rules such as `high when ... because \"...\"` and a final `otherwise low`")
    if not c.workflows:
        c.error("E203", "the policy declares no workflow", end,
                hint="add `workflow default:` with stage chains such as `development -> production`")


def _declare(c: Compilation, table: dict, name: ast.Name, node, what: str) -> None:
    if name.value in table:
        first = table[name.value].loc.line
        c.error("E202", f"{what} `{name}` is declared twice (first at line {first})", name.loc)
    else:
        table[name.value] = node


# --- stage 2: names ------------------------------------------------------------------------

def _known(c: Compilation, name: ast.Name, table, code: str, what: str, plural: str) -> bool:
    if name.value in table:
        return True
    c.error(code, f"unknown {what} `{name}`", name.loc, hint=c.suggest(name.value, table, plural))
    return False


def resolve_names(c: Compilation) -> None:
    tiers = c.tier_names
    if c.classify is not None:
        for line in c.classify.lines:
            _known(c, line.tier, tiers, "E210", "tier", "tiers")
    for block in c.tier_blocks.values():
        _known(c, block.name, tiers, "E210", "tier", "tiers")
        if block.parent is not None:
            _known(c, block.parent, tiers, "E215", "parent tier", "tiers")
        for s in block.settings:
            if s.key.value == "workflow":
                if s.value.kind != "name":
                    c.error("E286", "the `workflow` attribute takes a workflow name (no quotes)", s.value.loc)
                elif s.value.value not in c.workflows:
                    c.error("E213", f"unknown workflow `{s.value.value}`", s.value.loc,
                            hint=c.suggest(s.value.value, c.workflows, "workflows"))
        for req in block.requirements:
            for role in req.roles:
                _known(c, role, c.roles, "E211", "role", "roles")
            if req.waivable is not None:
                for role in req.waivable.roles:
                    if role.value not in c.roles:
                        c.error("E280", f"waiver role `{role}` is not a declared role", role.loc,
                                hint=c.suggest(role.value, c.roles, "roles"))
                if req.waivable.up_to is None:
                    c.error("E281", "`waivable` needs a time limit", req.waivable.loc,
                            hint="add `up to 14d` (say how long a waiver may last at most)")
                else:
                    _check_duration(c, req.waivable.up_to, "up to")
            if req.period is not None:
                _check_duration(c, req.period, "every")
            if req.signed is not None and KINDS[req.kind].signs is None:
                signable = [f"`{k.name}`" for k in KINDS.values() if k.signs is not None]
                c.error("E287", f"`signed` means nothing for a {req.kind} requirement: no one signs what meets it",
                        req.signed.loc, hint=f"remove `signed`; only {', '.join(signable[:-1])} and {signable[-1]} "
                                             "requirements can ask for signed events")
            _check_independence(c, req)
            if req.kind == "signoff" and req.count < 1:
                c.error("E283", "a sign-off requirement needs at least 1 sign-off", req.loc)
            if req.stage is not None and req.stage.value not in c.all_stages:
                c.error("E212", f"unknown stage `{req.stage}`", req.stage.loc,
                        hint=c.suggest(req.stage.value, c.sorted_stages, "stages"))
    if c.raci is not None:
        for row in c.raci.rows:
            for cell in row.cells:
                _known(c, cell.role, c.roles, "E211", "role", "roles")


def _check_independence(c: Compilation, req: ast.RequirementNode) -> None:
    """`independent of ROLES` (sign-offs) and `recorded by ROLES` (evidence): declared roles, each named once; a
    sign-off cannot be independent of its own role (no one holding it could ever give it)."""
    for clause, named in (("independent of", req.independent_of), ("recorded by", req.recorded_by)):
        seen: dict[str, ast.Name] = {}
        for role in named:
            if role.value in seen:
                c.error("E289", f"role `{role}` is named twice in `{clause}`", role.loc,
                        hint=f"name each role once (first at column {seen[role.value].loc.column})")
                continue
            seen[role.value] = role
            if not _known(c, role, c.roles, "E211", "role", "roles"):
                continue
            if clause == "independent of" and any(role.value == r.value for r in req.roles):
                c.error("E288", f"a sign-off from {role} cannot be independent of {role}: everyone who could give it "
                        f"holds {role}", role.loc,
                        hint=f"remove `{role}` from `independent of`; name the roles the signer must not also hold "
                             "(the model's owner, its developers)")


#: The longest period or waiver a policy may set: 100 years (of 365 days, as `y` counts them), in seconds.
MAX_DURATION = 100 * 365 * 86400


def _check_duration(c: Compilation, duration: ast.Literal, keyword: str) -> None:
    """A period (`every`) or a waiver's limit (`up to`) must be longer than zero and at most 100 years."""
    if duration.value == 0:
        what = "a period of zero would make every result overdue at once" if keyword == "every" else \
            "a waiver that may last no time at all could never be given"
        c.error("E284", f"`{keyword} {duration.text}`: {what}", duration.loc,
                hint="give a duration longer than zero, such as `30d`")
    elif duration.value > MAX_DURATION:
        c.error("E284", f"`{keyword} {duration.text}` is longer than 100 years", duration.loc,
                hint="the longest is `100y` (36500d)")


def _stages(workflow: ast.WorkflowDecl) -> dict[str, None]:
    seen: dict[str, None] = {}
    for chain in workflow.chains:
        for name in chain:
            seen.setdefault(name.value, None)
    return seen


# --- stage 3: classify ---------------------------------------------------------------------

def check_classify(c: Compilation) -> None:
    if c.classify is None:
        return
    otherwise = [line for line in c.classify.lines if isinstance(line, ast.Otherwise)]
    if not otherwise:
        c.error("E220", "`classify` has no `otherwise` line", c.classify.loc,
                hint=f"end the block with `otherwise {next(iter(c.tier_names), 'TIER')}` (the tier when no rule holds)")
    for extra in otherwise[1:]:
        c.error("E221", f"a second `otherwise` (the first is at line {otherwise[0].loc.line})", extra.loc,
                hint="keep one `otherwise`, as the last line of `classify`")
    if otherwise and c.classify.lines[-1] is not otherwise[0] and len(otherwise) == 1:
        c.error("E222", "`otherwise` must be the last line of `classify`", otherwise[0].loc,
                hint="move it below the last rule")


# --- stage 4: workflows --------------------------------------------------------------------

def check_workflows(c: Compilation) -> None:
    for name, decl in c.workflows.items():
        stages = list(c.stages_of(decl))
        edges: dict[tuple[str, str], None] = {}  # in order of first appearance
        successors: dict[str, list[str]] = {}
        for chain in decl.chains:
            for a, b in zip(chain, chain[1:]):
                edge = (a.value, b.value)
                if edge not in edges:
                    edges[edge] = None
                    successors.setdefault(a.value, []).append(b.value)
        incoming = {b for _, b in edges}
        starts = [s for s in stages if s not in incoming]
        if not starts:
            # every stage has an incoming edge (a loop back to the beginning): the first stage written starts
            starts = stages[:1]
        if len(starts) != 1:
            found = ", ".join(f"`{s}`" for s in starts)
            c.error("E240", f"workflow `{name}` needs exactly one start stage (a stage with no incoming edge); found {found}",
                    decl.name.loc, hint="a workflow begins at one stage; connect the others to it")
            continue
        reached = {starts[0]}
        frontier = [starts[0]]
        while frontier:
            for b in successors.get(frontier.pop(), ()):
                if b not in reached:
                    reached.add(b)
                    frontier.append(b)
        for chain in decl.chains:
            for stage in chain:
                if stage.value not in reached:
                    c.error("E241", f"stage `{stage}` of workflow `{name}` cannot be reached from its start `{starts[0]}`",
                            stage.loc, hint=f"add an edge into `{stage}` from a stage that is reached")
                    reached.add(stage.value)  # report once
        c.built_workflows[name] = Workflow(name, tuple(stages), tuple(edges), starts[0], decl.loc)


# --- stage 5: inheritance ------------------------------------------------------------------

def resolve_inheritance(c: Compilation) -> None:
    declared = c.tier_names
    parents: dict[str, str | None] = {}  # a tier -> the declared tier it extends (an undeclared one is E215)
    for tier in declared:
        block = c.tier_blocks.get(tier)
        parent = block.parent.value if block is not None and block.parent is not None else None
        parents[tier] = parent if parent in declared else None
    _report_cycles(c, parents)
    if c.failed:
        return
    held = 0  # requirements and attributes of the tiers resolved so far, each tier's inherited ones included
    for tier in declared:  # each tier after the tiers it extends, without recursion (a chain may be long)
        pending = []
        while tier is not None and tier not in c.resolved:
            pending.append(tier)
            tier = parents[tier]
        for tier in reversed(pending):
            attributes, requirements = _resolve_tier(c, tier)
            held += len(attributes) + len(requirements)
            if held > MAX_INHERITED:
                block = c.tier_blocks[tier]
                c.error("E232", f"with tier `{tier}`, the tiers hold more than {MAX_INHERITED:,} requirements and "
                        "attributes, each tier counting those it inherits", (block.parent or block.name).loc,
                        hint="a tier inherits every requirement and attribute of the tiers it extends: "
                             "extend fewer levels, or write what many tiers share in fewer of them")
                return


#: The most requirements and attributes all tiers may hold, each tier counting what it inherits. A tier holds a
#: copy of everything above it, so a long chain of `extends` (or many tiers under one large tier) would make a
#: small policy compile into millions of requirements; real policies hold a few hundred.
MAX_INHERITED = 200_000


def _report_cycles(c: Compilation, parents: dict[str, str | None]) -> None:
    """E230 once per circle of `extends`, at the first of its tiers (in the order of the `tiers` line), with the
    circle followed from there. Each tier is walked through once: a walk stops at a tier an earlier walk saw."""
    order = {tier: i for i, tier in enumerate(parents)}
    walked: dict[str, int] = {}  # tier -> the walk that reached it
    for walk, tier in enumerate(parents):
        path = []
        current: str | None = tier
        while current is not None and current not in walked:
            walked[current] = walk
            path.append(current)
            current = parents[current]
        if current is None or walked[current] != walk:
            continue  # the chain ends, or joins one walked before
        circle = path[path.index(current):]  # the walk came back onto its own path
        first = min(range(len(circle)), key=lambda i: order[circle[i]])
        chain = circle[first:] + circle[:first]
        block = c.tier_blocks[chain[0]]
        c.error("E230", f"tier `{chain[0]}` extends itself through {' -> '.join(chain + chain[:1])}",
                (block.parent or block.name).loc, hint="remove one `extends` to break the cycle")


def _resolve_tier(c: Compilation, tier: str) -> tuple[dict, list]:
    """The attributes and requirements of a tier whose parent (if any) is resolved, kept in c.resolved; the measures
    it drops (with those its parent dropped) in c.dropped."""
    block = c.tier_blocks.get(tier)
    attributes: dict[str, Any] = {}
    requirements: list[tuple[str, ast.RequirementNode, str]] = []
    dropped: list[tuple[tuple[str, ast.RequirementNode, str], ast.Drop, str]] = []
    if block is not None and block.parent is not None:
        parent_attrs, parent_reqs = c.resolved[block.parent.value]
        attributes.update(parent_attrs)
        requirements.extend(parent_reqs)
        dropped.extend(c.dropped.get(block.parent.value, ()))
    own_ids: dict[str, ast.RequirementNode] = {}
    own: list[tuple[str, ast.RequirementNode, str]] = []
    if block is not None:
        for s in block.settings:
            attributes[s.key.value] = s.value.value
        for node in block.requirements:
            rid = requirement_id(node)
            if rid in own_ids:
                first = own_ids[rid].loc.line
                c.error("E231", f"requirement id `{rid}` is used twice in tier `{tier}` (first at line {first})",
                        node.loc, hint='give one of them its own id with `as "ID"`')
                continue
            own_ids[rid] = node
            own.append((rid, node, tier))
        if block.drops:
            requirements = _drop(c, block, tier, requirements, own_ids, dropped)
    # a tier's own requirement replaces an inherited one with the same id (one pass: linear, not quadratic)
    requirements = [r for r in requirements if r[0] not in own_ids] + own
    if dropped and own_ids:  # a tier that states a measure again takes it back from a drop above it
        dropped = [d for d in dropped if d[0][0] not in own_ids]
    c.resolved[tier] = (attributes, requirements)
    if dropped:
        c.dropped[tier] = dropped
    return attributes, requirements


def _drop(c: Compilation, block: ast.TierDecl, tier: str, inherited: list, own_ids: dict, dropped: list) -> list:
    """The inherited requirements without those the tier drops; each drop recorded in `dropped`, or reported (E233:
    nothing inherited by that id; E234: dropped twice, or dropped and stated again in the same tier)."""
    by_id = {entry[0]: entry for entry in inherited}
    seen: dict[str, ast.Drop] = {}
    for drop in block.drops:
        rid = drop.target.value
        if block.parent is None:
            c.error("E233", f"tier `{tier}` extends no tier, so it has nothing to drop", drop.loc,
                    hint=f"drop only in a tier that extends another: `tier {tier} extends PARENT:`")
            continue
        if rid in seen:
            c.error("E234", f"`{rid}` is dropped twice in tier `{tier}` (first at line {seen[rid].loc.line})",
                    drop.target.loc, hint="keep one `drop` line")
            continue
        seen[rid] = drop
        if rid in own_ids:
            c.error("E234", f"tier `{tier}` drops `{rid}` and states it again (line {own_ids[rid].loc.line})",
                    drop.target.loc, hint="a requirement of the tier with the same id replaces the inherited one "
                                          "already: remove the `drop`, or the requirement")
            continue
        entry = by_id.get(rid)
        if entry is None:
            parent = block.parent.value
            c.error("E233", f"tier `{tier}` inherits no requirement or forbid `{rid}` from `{parent}`",
                    drop.target.loc, hint=c.suggest(rid, list(by_id), "ids") or
                    f"`tiergate requirements {parent}` lists the ids a tier holds")
            continue
        dropped.append((entry, drop, tier))
    gone = {d[0][0] for d in dropped}
    return [entry for entry in inherited if entry[0] not in gone]


# --- stage 6: stages of requirements -------------------------------------------------------

def check_requirement_stages(c: Compilation) -> None:
    default = next(iter(c.workflows), None)
    known = c.all_stages
    for tier in c.tier_names:
        attributes, requirements = c.resolved.get(tier, ({}, []))
        workflow = attributes.get("workflow", default)
        built = c.built_workflows.get(workflow)
        if built is None:
            continue
        stages = built.stage_set
        for rid, node, declared_in in requirements:
            if node.stage is None or node.stage.value not in known:
                continue
            if node.stage.value not in stages:
                where = f" (inherited by tier `{tier}`)" if declared_in != tier else ""
                c.error("E242", f"stage `{node.stage}` is not in workflow `{workflow}`, which tier `{tier}` uses{where}",
                        node.stage.loc, hint=c.suggest(node.stage.value, built.stages, f"stages of `{workflow}`"))


# --- stage 7: questionnaire ----------------------------------------------------------------

def check_questionnaire(c: Compilation) -> None:
    setting = None
    if c.header is not None:
        setting = next((s for s in c.header.settings if s.key.value == "questionnaire"), None)
    if setting is not None and setting.value.kind == "string":
        base = c.base_dir if c.base_dir is not None else Path.cwd()
        path = (base / setting.value.value)
        shown = setting.value.value
        at = setting.value.loc
    else:
        path = schema_path("questionnaire.schema.json")
        shown = "questionnaire.schema.json (shipped)"
        at = c.header.loc if c.header is not None else Location(c.file, 1, 1)
    try:
        if c.schema_source is None:
            c.schema_source = read_schema(path, shown, at)
        c.schema = parse_schema(c.schema_source, shown, at)
        c.schema_file = display(path)
    except TiergateError as exc:
        c.diagnostics.extend(exc.diagnostics)
        return
    view = SchemaView(c.schema)
    conditions_to_check = []
    if c.classify is not None:
        conditions_to_check += [line.condition for line in c.classify.lines if isinstance(line, ast.Rule)]
    for block in c.tier_blocks.values():
        conditions_to_check += [r.where for r in block.requirements if r.kind == "forbid"]
        conditions_to_check += [r.when for r in block.requirements if r.when is not None]
    for condition in conditions_to_check:
        for leaf in conditions.leaves(condition):
            _check_leaf(c, view, leaf)


def _check_leaf(c: Compilation, view: SchemaView, leaf) -> None:
    path = leaf.path
    answer, found, known = view.lookup(path.parts)
    if answer is None:
        prefix = ".".join(found)
        where = f" in `{prefix}`" if prefix else ""
        # (past the hints' budget a long list gives no hint: it is not built)
        full = [f"{prefix}.{k}" if prefix else k for k in known] if len(known) <= max(12, c.suggestions_left) else known
        hint = c.suggest(".".join(path.parts[: len(found) + 1]), full, "answers" + where)
        c.error("E250", f"`{path.dotted}` is not a question of the questionnaire ({c.schema_file})", path.loc, hint=hint)
        return
    name = path.dotted
    if isinstance(leaf, ast.Truthy):
        if answer.types and "boolean" not in answer.types:
            c.error("E252", f"`{name}` is {answer.describe()}, not true/false, so it cannot stand alone as a condition",
                    path.loc, hint=f"compare it, e.g. `{name} == ...`")
        return
    if isinstance(leaf, ast.Contains):
        if answer.types and "array" not in answer.types:
            c.error("E252", f"`contains` looks inside a list, but `{name}` is {answer.describe()}", path.loc,
                    hint=f"use `{name} == ...`")
            return
        _check_value(c, name, leaf.literal, answer.items)
        return
    if "array" in answer.types:
        c.error("E252", f"`{name}` is a list; test its items with `contains`", path.loc,
                hint=f"e.g. `{name} contains \"...\"`")
        return
    if isinstance(leaf, ast.Member):
        for value in leaf.options.value:
            _check_value(c, name, ast.Literal(value, "list-item", leaf.options.loc, ""), answer)
        return
    if leaf.op in ("<", "<=", ">", ">="):
        if answer.types and not {"integer", "number"} & set(answer.types):
            hint = f"use `{name} in [...]` to list the values that count" if answer.enum else None
            c.error("E252", f"`{leaf.op}` compares numbers, but `{name}` is {answer.describe()}", leaf.literal.loc, hint=hint)
            return
    _check_value(c, name, leaf.literal, answer)


def _check_value(c: Compilation, name: str, literal: ast.Literal, answer) -> None:
    if answer is None:
        return
    value = literal.value
    shown = literal.text or _show(value)
    if not literal_fits(value, answer):
        c.error("E252", f"`{name}` is {answer.describe()}, so it cannot be compared with {shown}", literal.loc)
        return
    if answer.enum is not None and value not in answer.enum:
        best = c.suggest(_show(value), [_show(v) for v in answer.enum])  # quoted, as the policy must write it
        allowed = ", ".join(_show(v) for v in answer.enum)
        c.error("E251", f"{shown} is not an allowed value of `{name}`; allowed: {allowed}", literal.loc,
                hint=best if best and best.startswith("did") else None)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- stage 8: considerations and RACI ------------------------------------------------------

def check_coverage(c: Compilation) -> None:
    covered = {k.value for decl in c.considerations.values() for k in decl.kinds}
    for block in c.tier_blocks.values():
        for node in block.requirements:
            if node.kind in ("evidence", "monitoring") and node.subject.value not in covered:
                c.warn("W260", f"{node.kind} kind `{node.subject}` is covered by no consideration",
                       node.subject.loc, hint=f"list `{node.subject}` in the consideration it belongs to")


def check_raci(c: Compilation) -> None:
    if c.raci is None:
        return
    for row in c.raci.rows:
        accountable = [cell for cell in row.cells if "A" in cell.letters.split("/")]
        responsible = [cell for cell in row.cells if "R" in cell.letters.split("/")]
        if len(accountable) != 1:
            found = ", ".join(f"`{cell.role}`" for cell in accountable) or "none"
            c.error("E270", f"RACI task {row.task.text} needs exactly one A (accountable role); found {found}",
                    row.task.loc, hint="one role is accountable for each task")
        if not responsible:
            c.warn("W271", f"RACI task {row.task.text} has no R (responsible role)", row.task.loc,
                   hint="mark the role that does the work with R")
        seen = set()
        for cell in row.cells:
            if cell.role.value in seen:
                c.error("E202", f"role `{cell.role}` appears twice in RACI task {row.task.text}", cell.role.loc)
            seen.add(cell.role.value)


# --- stage 9: build ------------------------------------------------------------------------

def build_policy(c: Compilation) -> Policy:
    header = c.header
    settings = {s.key.value: s.value.value for s in header.settings}
    default_workflow = next(iter(c.workflows))
    view = SchemaView(c.schema)
    list_questions = {name for name in (view.properties() or {})
                      if "array" in (view.lookup((name,))[0] or _NO_TYPE).types}
    tiers = []
    for rank, name in enumerate(c.tier_order):
        attributes, nodes = c.resolved[name.value]
        block = c.tier_blocks.get(name.value)
        requirements = tuple(_requirement(rid, node, declared, list_questions) for rid, node, declared in nodes)
        dropped = tuple(Dropped(_requirement(rid, node, declared, list_questions), drop.because.value, drop.loc, by)
                        for (rid, node, declared), drop, by in c.dropped.get(name.value, ()))
        tiers.append(Tier(
            name=name.value, rank=rank, loc=block.name.loc if block is not None else name.loc,
            parent=block.parent.value if block is not None and block.parent is not None else None,
            attributes=MappingProxyType(dict(attributes)), requirements=requirements,
            workflow=attributes.get("workflow", default_workflow), dropped=dropped))
    rule_nodes = [line for line in c.classify.lines if isinstance(line, ast.Rule)]
    rules = tuple(Rule(i, r.tier.value, conditions.compile_condition(r.condition),
                       r.because.value if r.because is not None else None, r.loc)
                  for i, r in enumerate(rule_nodes))
    otherwise = next(line for line in c.classify.lines if isinstance(line, ast.Otherwise))
    raci = tuple(RaciRow(row.task.value, tuple((cell.role.value, cell.letters) for cell in row.cells), row.loc)
                 for row in (c.raci.rows if c.raci is not None else ()))
    source = c.module.source
    return Policy(
        name=header.name.value, version=header.version.value, description=settings.get("description", ""),
        file=c.file, sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(), source=source,
        tiers=tuple(tiers), roles=tuple(c.roles), workflows=MappingProxyType(dict(c.built_workflows)),
        default_workflow=default_workflow,
        considerations=tuple(Consideration(k, d.title.value, tuple(n.value for n in d.kinds), d.loc)
                             for k, d in c.considerations.items()),
        rules=rules, floor=otherwise.tier.value, floor_loc=otherwise.loc, raci=raci,
        questionnaire=MappingProxyType(c.schema), questionnaire_file=c.schema_file,
        questionnaire_source=c.schema_source or "",
        warnings=tuple(sorted((d for d in c.diagnostics if not d.is_error), key=Diagnostic.sort_key)),
    )


_NO_TYPE = type("NoType", (), {"types": ()})()


def _requirement(rid: str, node: ast.RequirementNode, declared_in: str, list_questions: set[str]) -> Requirement:
    kind = KINDS[node.kind]
    return Requirement(
        id=rid, kind=node.kind, severity=node.severity, text=line_text(node), loc=node.loc, tier=declared_in,
        stage=node.stage.value if node.stage is not None else None, relation=kind.relation,
        roles=tuple(r.value for r in node.roles), count=node.count,
        subject=node.subject.value if node.subject is not None else None,
        condition=conditions.compile_condition(node.where) if node.where is not None else None,
        for_names=tuple(n.value for n in node.for_names),
        for_answers=tuple(n.value for n in node.for_names if n.value in list_questions), modes=tuple(m.value for m in node.modes),
        period=node.period.value if node.period is not None else None,
        waivable_by=tuple(r.value for r in node.waivable.roles) if node.waivable is not None else (),
        waiver_max=node.waivable.up_to.value if node.waivable is not None and node.waivable.up_to is not None else None,
        because=node.because.value if node.because is not None else None, covers=kind.covers(node),
        when=conditions.compile_condition(node.when) if node.when is not None else None, any_of=node.any_of,
        signed=node.signed is not None, independent_of=tuple(r.value for r in node.independent_of),
        recorded_by=tuple(r.value for r in node.recorded_by),
    )


#: The compiler's stages, in order. Each reads the Compilation and appends diagnostics.
STAGES: tuple[tuple[str, Callable[[Compilation], None]], ...] = (
    ("declarations", collect_declarations),
    ("names", resolve_names),
    ("classify", check_classify),
    ("workflows", check_workflows),
    ("inheritance", resolve_inheritance),
    ("stages", check_requirement_stages),
    ("questionnaire", check_questionnaire),
    ("coverage", check_coverage),
    ("raci", check_raci),
)

def compile_module(module: ast.Module, base_dir: Path | None = None,
                   schema_source: str | None = None) -> tuple[Policy | None, list[Diagnostic]]:
    """Run every stage; returns the Policy (None when there were errors) and all diagnostics, sorted.
    `schema_source`: the questionnaire's text, when it is not to be read from the file the policy names."""
    with paused_gc():
        c = Compilation(module, base_dir, schema_source=schema_source)
        for _name, stage in STAGES:
            stage(c)
        diagnostics = sorted(c.diagnostics, key=Diagnostic.sort_key)
        if c.failed:
            return None, diagnostics
        return build_policy(c), diagnostics
