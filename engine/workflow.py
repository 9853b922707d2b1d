"""Workflows as networkx graphs, and the state of one model version as its events move it through one."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import networkx as nx

from .events import Event
from .policy import Workflow


@lru_cache(maxsize=64)
def graph_of(workflow: Workflow) -> nx.DiGraph:
    """The workflow's stages and edges as a directed graph (cycles such as a loop back are allowed)."""
    graph = nx.DiGraph(name=workflow.name)
    graph.add_nodes_from(workflow.stages)
    graph.add_edges_from(workflow.edges)
    graph.graph["start"] = workflow.start
    return graph


@dataclass(slots=True)
class VersionState:
    """What is known about one model version at a point in time: the events applied so far, indexed."""

    use_case: str
    version: str
    stage: str
    registered: Event | None = None
    retired: Event | None = None
    entered: dict[str, datetime] = field(default_factory=dict)  # stage -> first entry
    last_transition: Event | None = None
    signoffs: dict[tuple[str, str], list[Event]] = field(default_factory=dict)  # (gate, role) -> in order
    evidence: dict[str, Event] = field(default_factory=dict)  # kind -> latest
    monitoring: dict[str, Event] = field(default_factory=dict)  # kind -> latest
    reviews: list[Event] = field(default_factory=list)
    waivers: dict[str, list[Event]] = field(default_factory=dict)  # requirement id -> in order

    @property
    def author(self) -> str | None:
        return self.registered.actor if self.registered is not None else None

    def apply(self, event: Event) -> None:
        APPLY[event.type](self, event)

    def snapshot(self) -> VersionState:
        """A copy that later events leave as it is (events themselves never change)."""
        return VersionState(self.use_case, self.version, self.stage, self.registered, self.retired, dict(self.entered),
                            self.last_transition, {k: v[:] for k, v in self.signoffs.items()}, dict(self.evidence),
                            dict(self.monitoring), self.reviews[:], {k: v[:] for k, v in self.waivers.items()})


def _registered(state: VersionState, e: Event) -> None:
    state.registered = e


def _evidence(state: VersionState, e: Event) -> None:
    state.evidence[e.data["kind"]] = e


def _signoff(state: VersionState, e: Event) -> None:
    state.signoffs.setdefault((e.data["gate"], e.data["role"]), []).append(e)


def _transition(state: VersionState, e: Event) -> None:
    to = e.data["to"]
    state.stage = to
    state.entered.setdefault(to, e.at)
    state.last_transition = e


def _waiver(state: VersionState, e: Event) -> None:
    state.waivers.setdefault(e.data["requirement"], []).append(e)


def _monitoring(state: VersionState, e: Event) -> None:
    state.monitoring[e.data["kind"]] = e


def _review(state: VersionState, e: Event) -> None:
    state.reviews.append(e)


def _retired(state: VersionState, e: Event) -> None:
    state.retired = e


#: event type -> how it changes a version's state
APPLY = {
    "registered": _registered,
    "evidence": _evidence,
    "signoff": _signoff,
    "transition": _transition,
    "waiver": _waiver,
    "monitoring": _monitoring,
    "review": _review,
    "retired": _retired,
}
