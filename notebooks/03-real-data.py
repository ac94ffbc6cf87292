# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Judging real data
#
# `../shared/realdata/asd/` holds real production metrics of 12 peer servers (19 metrics,
# 5-minute steps) with incidents labelled by experts (MIT licence; see its README). It is not
# part of the repository: where it is absent this notebook says so and stops cleanly.
#
# Two questions, answered with the same library calls a team would use:
#
# 1. **Healthy peers against each other** (an A/A test): two servers as the "canary", five
#    others as the baseline, a stretch with no labelled incident anywhere. The right verdict is
#    `pass`; every `fail` is a false alarm.
# 2. **A labelled incident host against its peers**: the server the experts marked as the
#    "canary", clean servers as the baseline, the labelled stretch as the window. The right
#    verdict is `fail`.
#
# Both go through `canarystats.backtesting`, with each case a "deploy" of a
# `HistorySource`.

# %%
# Figures show as pictures: the inline backend renders matplotlib figures, pyplot or not.
# %matplotlib inline
import warnings

import numpy as np
import pandas as pd
from IPython.display import display

from canarystats import judge, load_config
from canarystats.backtesting import backtest, summarize
from canarystats.plot import plot_judgment
from canarystats.sources.history import HistorySource
from canarystats.testing import realdata

warnings.simplefilter("ignore", RuntimeWarning)

asd_path = realdata.find_asd()
data = realdata.load_asd(asd_path) if asd_path is not None else None
if data is None:
    print(
        "SKIPPED: ../shared/realdata/asd is not beside the repository, so there is no real "
        "data to judge; the rest of this notebook does nothing."
    )
else:
    print(
        f"train {data.train.shape}, test {data.test.shape} (host, step, metric); "
        f"{len(data.segments)} labelled segments"
    )

# %% [markdown]
# A config for all 19 metrics, as a team would start: every metric in its own group, a change
# in either direction counts, the default `hosts` method.

# %%
config = load_config(
    {
        "name": "asd",
        "step": 300,
        "metrics": [
            {"name": m, "query": f"avg:{m}{{$scope}} by {{host}}", "groups": [m]}
            for m in realdata.METRICS
        ],
    }
)
BASE = pd.Timestamp("2026-01-01T00:00:00Z")


def tidy(cube, hosts, cohort, a, b, deploy):
    """The tidy frame of ``hosts`` over steps [a, b) of a (host, step, metric) cube."""
    values = cube[np.asarray(hosts)][:, a:b, :]  # (host, step, metric)
    h, t, m = values.shape
    idx = np.indices((h, t, m)).reshape(3, -1)
    return pd.DataFrame(
        {
            "deploy": deploy,
            "metric": np.asarray(realdata.METRICS)[idx[2]],
            "cohort": cohort,
            "host": np.asarray(realdata.HOSTS)[np.asarray(hosts)[idx[0]]],
            "timestamp": BASE + pd.to_timedelta((a + idx[1]) * 300, unit="s"),
            "value": values.reshape(-1),
        }
    )


def case(cube, canary, baseline, a, b, deploy, outcome, offset):
    # Each case gets its own stretch of the clock (offset) so windows never overlap.
    frame = pd.concat(
        [tidy(cube, canary, "canary", a, b, deploy), tidy(cube, baseline, "baseline", a, b, deploy)]
    )
    frame["timestamp"] += pd.Timedelta(days=offset)
    start = BASE + pd.Timedelta(days=offset) + pd.Timedelta(seconds=300 * a)
    row = {
        "deploy": deploy,
        "canary_scope": f"host:{','.join(realdata.HOSTS[i] for i in canary)}",
        "baseline_scope": f"host:{','.join(realdata.HOSTS[i] for i in baseline)}",
        "start": start,
        "end": start + pd.Timedelta(seconds=300 * (b - a)),
        "outcome": outcome,
    }
    return frame, row


# %% [markdown]
# ## The cases
#
# Healthy: 12 draws from the training split (no incidents were labelled there), 6 hours each.
# Incidents: every labelled segment of at least 6 steps (30 minutes) with at least 3 servers
# that are clean around it, up to 12.

# %%
frames, rows = [], []
if data is not None:
    rng = np.random.default_rng(20261127)
    for i in range(12):
        hosts = rng.permutation(realdata.N_HOSTS)
        a = int(rng.integers(0, data.train.shape[1] - 72))
        f, r = case(data.train, hosts[:2], hosts[2:7], a, a + 72, f"aa{i:02d}", "good", i)
        frames.append(f)
        rows.append(r)
    n_incidents = 0
    for k, seg in enumerate(data.segments):
        if seg.end - seg.start < 6 or n_incidents >= 12:
            continue
        lo, hi = max(0, seg.start - 6), seg.end + 6
        peers = [
            h for h in range(realdata.N_HOSTS) if h != seg.host and not data.label[h, lo:hi].any()
        ]
        if len(peers) < 3:
            continue
        f, r = case(
            data.test, [seg.host], peers[:5], seg.start, seg.end, f"inc{k:02d}", "bad", 100 + k
        )
        frames.append(f)
        rows.append(r)
        n_incidents += 1
deploys = pd.DataFrame(rows)
history = pd.concat(frames, ignore_index=True) if frames else None
print(f"{len(deploys)} cases" if len(deploys) else "no cases (no data)")

# %% [markdown]
# ## Backtest

# %%
if history is not None:
    result = backtest(config, deploys, HistorySource(history, deploys))
    print(pd.Series(summarize(result)))
    display_columns = ["deploy", "outcome", "verdict", "score", "failing_metrics"]
    print(result[display_columns].to_string(index=False))

# %% [markdown]
# ## One incident, as the judge saw it
#
# The first labelled incident the judge failed (or, if it failed none, the first one), drawn
# metric by metric, failing metrics first.

# %%
if history is not None:
    incidents = result[result["outcome"] == "bad"]
    caught = incidents[incidents["stopped"]]
    pick = (caught if len(caught) else incidents)["deploy"].iloc[0]
    one = history[history["deploy"] == pick]
    display(plot_judgment(judge(config, one), one, ncols=4))

# %% [markdown]
# ## Reading it
#
# The summary above is recomputed on every run. What to look for:
#
# - Healthy peers are not identical: real servers differ in level and drift together through
#   the day. A judge that treats every 5-minute point as independent (the `kayenta` method)
#   fails many A/A pairs; the `hosts` method compares servers, not points, and should keep
#   false alarms rare (`benchmarks/RESULTS.md`, quality section, measures this on thousands of
#   draws).
# - Labelled incidents are often visible in only a few of the 19 metrics. With every metric in
#   its own group, one failing metric of 19 still leaves a score near 95, so whether an
#   incident "fails" depends on the pass score as much as on the statistics: a team that cares
#   about a metric marks it `critical`, which fails the run as soon as that metric fails.
