"""Tools for testing canary pipelines: a fake Datadog, and synthetic fleets.

:class:`FakeDatadog` is a Datadog-compatible HTTP server on 127.0.0.1: it speaks
``GET /api/v1/query`` and ``POST /api/v2/query/timeseries`` the way Datadog does, requires the
``DD-API-KEY`` and ``DD-APPLICATION-KEY`` headers, takes seconds on v1 and milliseconds on v2,
answers from a tidy frame or replays recorded answers, sets the ``X-RateLimit-*`` headers, and
injects faults on demand (:class:`Fault`).  It also answers Datadog's monitor search and
monitor states (:mod:`canarystats.testing.monitors`) and takes events and metric points at its
intake, keeping what it accepted (:mod:`canarystats.testing.intake`).
:mod:`canarystats.testing.fleet` generates fleets of synthetic metrics of any size, for tests,
demos and benchmarks (import it on its own).

The library never imports this package at run time.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"metric": ["app.latency"] * 2, "cohort": ["canary", "baseline"],
...     "host": ["web-1", "web-2"], "value": [1.0, 2.0],
...     "timestamp": pd.to_datetime(["2026-01-01T00:00:00Z"] * 2)})
>>> with FakeDatadog(frame, scopes={"role:canary": "canary"}) as dd:
...     dd.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

from canarystats.testing.queries import Received
from canarystats.testing.server import FakeDatadog, Fault

__all__ = ["FakeDatadog", "Fault", "Received"]
