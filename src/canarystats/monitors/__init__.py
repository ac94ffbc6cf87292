"""Datadog monitors as a gate on the canary: a monitor that fired on a canary host fails it.

- :mod:`~canarystats.monitors.states`: the monitor-states table a judgment is given (one row
  per monitor group, as Datadog reported it), and its file;
- :mod:`~canarystats.monitors.gate`: what the groups did during the canary window, and the
  judgment with the gate applied;
- :mod:`~canarystats.monitors.results`: the plain values the gate returns and reports render.

Reading the states from Datadog is a source's work (:mod:`canarystats.sources.datadog_monitors`).
"""

from __future__ import annotations

from canarystats.monitors.results import MONITOR_GROUP, MonitorFiring, MonitorGate, MonitorResult
from canarystats.monitors.states import monitor_frame, read_monitor_states, write_monitor_states

__all__ = [
    "MONITOR_GROUP",
    "MonitorFiring",
    "MonitorGate",
    "MonitorResult",
    "monitor_frame",
    "read_monitor_states",
    "write_monitor_states",
]
