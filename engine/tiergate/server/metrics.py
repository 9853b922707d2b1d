"""`GET /metrics`: what a server has done since it started, in Prometheus's text format (version 0.0.4): requests
by route, method and status, their latencies, decisions by operation and verdict, and the ledger's size."""
from __future__ import annotations

import threading
import time
from collections import defaultdict

#: the latency buckets, in seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency_counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.decisions: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, status)] += 1
            counts = self.latency_counts[route]
            counts[next((i for i, b in enumerate(BUCKETS) if seconds <= b), len(BUCKETS))] += 1
            self.latency_sum[route] += seconds

    def decided(self, operation: str, verdict: str) -> None:
        with self._lock:
            self.decisions[(operation, verdict)] += 1

    def render(self, events: int | None, connections: int = 0, commits: int = 0, appends: int = 0) -> str:
        """The Prometheus text: what this object counted, the ledger's size (None: the ledger did not answer), the
        ledger connections the server opened, and the transactions its appends were committed in (pool.py)."""
        with self._lock:
            lines = ["# HELP tiergate_requests_total Requests answered, by route, method and status.",
                     "# TYPE tiergate_requests_total counter"]
            for (route, method, status), n in sorted(self.requests.items()):
                lines.append(f'tiergate_requests_total{{route="{_label(route)}",method="{method}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP tiergate_request_seconds How long requests took to answer, by route.",
                      "# TYPE tiergate_request_seconds histogram"]
            for route, counts in sorted(self.latency_counts.items()):
                running = 0
                for bound, n in zip((*BUCKETS, "+Inf"), counts):
                    running += n
                    lines.append(f'tiergate_request_seconds_bucket{{route="{_label(route)}",le="{bound}"}} {running}')
                lines.append(f'tiergate_request_seconds_sum{{route="{_label(route)}"}} {self.latency_sum[route]:.6f}')
                lines.append(f'tiergate_request_seconds_count{{route="{_label(route)}"}} {running}')
            lines += ["# HELP tiergate_decisions_total Checks and promotes answered, by operation and verdict.",
                      "# TYPE tiergate_decisions_total counter"]
            for (operation, verdict), n in sorted(self.decisions.items()):
                lines.append(f'tiergate_decisions_total{{operation="{operation}",verdict="{verdict}"}} {n}')
        lines += ["# HELP tiergate_ledger_connections_opened_total Connections to the ledger the server opened.",
                  "# TYPE tiergate_ledger_connections_opened_total counter",
                  f"tiergate_ledger_connections_opened_total {connections}",
                  "# HELP tiergate_ledger_commits_total Transactions the server's appends were committed in (appends "
                  "that arrive together share one).", "# TYPE tiergate_ledger_commits_total counter",
                  f"tiergate_ledger_commits_total {commits}",
                  "# HELP tiergate_ledger_appends_total Appends the server committed.",
                  "# TYPE tiergate_ledger_appends_total counter", f"tiergate_ledger_appends_total {appends}"]
        if events is not None:
            lines += ["# HELP tiergate_ledger_events Events in the ledger.", "# TYPE tiergate_ledger_events gauge",
                      f"tiergate_ledger_events {events}"]
        return "\n".join(lines) + "\n"


class Timing:
    """ASGI middleware: each HTTP request's route (the path's template), method, status and time, into Metrics."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), {"code": 500}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, sending)
        finally:
            name = scope.get("tiergate.route") or "(no route)"
            self.metrics.observe(name, scope.get("method", "?"), status["code"], time.perf_counter() - start)
