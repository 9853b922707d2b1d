"""Workflows as networkx graphs, and the state of one model version as its events move it through one."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from tiergate.inputs.events import Event
from tiergate.language.policy import Workflow

if TYPE_CHECKING:
    import networkx as nx


@lru_cache(maxsize=64)
def graph_of(workflow: Workflow) -> nx.DiGraph:
    """The workflow's stages and edges as a directed graph (cycles such as a loop back are allowed). networkx is
    imported here, when a graph is asked for: it costs more to import than a gate check costs to run."""
    import networkx as nx

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
    #: (gate, role) -> in order; a tuple, replaced as sign-offs arrive (never changed in place: snapshots share it)
    signoffs: dict[tuple[str, str], tuple[Event, ...]] = field(default_factory=dict)
    evidence: dict[str, Event] = field(default_factory=dict)  # kind -> latest
    monitoring: Mapping[str, Event] = field(default_factory=dict)  # kind -> latest (a dict, or LatestMonitoring)
    reviews: list[Event] = field(default_factory=list)
    waivers: dict[str, tuple[Event, ...]] = field(default_factory=dict)  # requirement id -> in order (as signoffs)

    @property
    def author(self) -> str | None:
        return self.registered.actor if self.registered is not None else None

    def apply(self, event: Event) -> None:
        APPLY[event.type](self, event)

    def snapshot(self) -> VersionState:
        """A copy that later events leave as it is (events themselves never change, nor do the tuples of
        sign-offs and waivers)."""
        return VersionState(self.use_case, self.version, self.stage, self.registered, self.retired, dict(self.entered),
                            self.last_transition, dict(self.signoffs), dict(self.evidence), dict(self.monitoring),
                            self.reviews[:], dict(self.waivers))


class LatestMonitoring(Mapping):
    """kind -> a version's latest monitoring result by `at`: what VersionState.monitoring holds once the version's
    events are applied, found when first asked by reading the events backward from the end. (Monitoring results
    are most of a long history, and only the latest of each kind counts: a replay passes them by.)"""

    __slots__ = ("_events", "_use_case", "_version", "_at", "_found", "_next")

    def __init__(self, events: Sequence[Event], use_case: str, version: str, at: datetime):
        self._events, self._use_case, self._version, self._at = events, use_case, version, at
        self._found: dict[str, Event] = {}
        self._next = len(events) - 1  # the next event to read, going backward

    def _read(self, kind: str | None) -> None:
        """Read backward until the latest result of `kind` is found (None: to the first event)."""
        events, found, use_case, version, at = self._events, self._found, self._use_case, self._version, self._at
        for i in range(self._next, -1, -1):
            e = events[i]
            if e.type == "monitoring" and e.version == version and e.use_case == use_case and e.at <= at:
                seen = e.data["kind"]
                if seen not in found:
                    found[seen] = e
                    if seen == kind:
                        self._next = i - 1
                        return
        self._next = -1

    def get(self, kind: str, default=None):
        found = self._found.get(kind)
        if found is None and self._next >= 0:
            self._read(kind)
            found = self._found.get(kind)
        return default if found is None else found

    def __getitem__(self, kind: str) -> Event:
        found = self.get(kind)
        if found is None:
            raise KeyError(kind)
        return found

    def __iter__(self):
        self._read(None)
        return iter(self._found)

    def __len__(self) -> int:
        self._read(None)
        return len(self._found)


def _registered(state: VersionState, e: Event) -> None:
    state.registered = e


def _evidence(state: VersionState, e: Event) -> None:
    state.evidence[e.data["kind"]] = e


def _signoff(state: VersionState, e: Event) -> None:
    key = (e.data["gate"], e.data["role"])
    state.signoffs[key] = state.signoffs.get(key, ()) + (e,)


def _transition(state: VersionState, e: Event) -> None:
    to = e.data["to"]
    state.stage = to
    state.entered.setdefault(to, e.at)
    state.last_transition = e


def _waiver(state: VersionState, e: Event) -> None:
    key = e.data["requirement"]
    state.waivers[key] = state.waivers.get(key, ()) + (e,)


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
