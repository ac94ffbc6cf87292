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
# # Tuning a config by backtest
#
# Before a team lets an automated judge stop deploys it asks two questions of its past: how
# many bad deploys would this config have caught, and how many good ones would it have stopped?
# `fixtures/history/` holds 200 deploys of the web service with known outcomes: 12 bad ones,
# from blatant to subtle, and good ones with the usual nuisances (a noisy neighbour, an error
# burst on a baseline host, a slow warm-up). See `fixtures/README.md`.
#
# We backtest `examples/web-backtest.yaml` on it, then move the settings and watch the
# false-alarm rate (good deploys stopped) against the catch rate (bad deploys stopped).

# %%
# Figures show as pictures: the inline backend renders matplotlib figures, pyplot or not.
# %matplotlib inline
import warnings
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from canarystats import load_config
from canarystats.backtesting import backtest, backtest_sweep, summarize
from canarystats.plot import plot_backtest
from canarystats.sources.history import HistorySource, read_deploys

warnings.simplefilter("ignore", RuntimeWarning)  # NaN rows of quiet counters
ROOT = Path.cwd() if (Path.cwd() / "fixtures").is_dir() else Path.cwd().parent
config = load_config(ROOT / "examples" / "web-backtest.yaml")
deploys = read_deploys(ROOT / "fixtures" / "history" / "deploys.csv")
source = HistorySource.from_files(ROOT / "fixtures" / "history" / "history.csv", deploys)
print(
    f"{len(deploys)} deploys, {int((deploys['outcome'] == 'bad').sum())} bad; "
    f"method {config.judge.method}"
)

# %% [markdown]
# ## The config as it stands

# %%
result = backtest(config, deploys, source)
pd.Series(summarize(result))

# %% [markdown]
# Which bad deploys got through, and which good ones were stopped (and why):

# %%
columns = ["deploy", "verdict", "score", "failing_metrics", "problem", "note"]
result[result["missed"].fillna(False)][columns]

# %%
result[result["false_alarm"].fillna(False)][columns]

# %% [markdown]
# ## Moving the settings
#
# `backtest_sweep` fetches the history once and re-judges it for every setting. Four knobs:
#
# - **confidence** of the Mann-Whitney shift interval, with the Kayenta method (pooled points;
#   `tolerance` is the share of the shift the interval must clear);
# - **alpha**, the significance level of the default `hosts` method (hosts as the units, Holm
#   over the run's metrics);
# - the **minimum practical effect** of the `hosts` method (`*.min_effect_relative`, a share of
#   the baseline level): a smaller change never fails a metric, whatever its p-value;
# - the **pass score**: below it a deploy is `marginal` (stopped unless `--marginal-ok`).

# %%
sweeps = {
    "confidence": backtest_sweep(
        config.with_judge(method="kayenta"),
        deploys,
        source,
        {"confidence": [0.9, 0.98, 0.995], "tolerance": [0.25]},
    ),
    "alpha": backtest_sweep(config, deploys, source, {"alpha": [0.01, 0.05, 0.2]}),
    "*.min_effect_relative": backtest_sweep(
        config, deploys, source, {"*.min_effect_relative": [0.0, 0.08, 0.2]}
    ),
    "pass_score": backtest_sweep(
        config, deploys, source, {"pass_score": [85, 90, 95], "marginal_score": [75]}
    ),
}
pd.concat(sweeps, names=["knob"])[
    ["false_alarms", "caught", "nodata", "false_alarm_rate", "catch_rate"]
]

# %%
fig = Figure(figsize=(11, 9), layout="constrained")
for ax, (param, sweep) in zip(fig.subplots(2, 2).ravel(), sweeps.items(), strict=True):
    plot_backtest(sweep, param=param, ax=ax)
fig

# %% [markdown]
# The Kayenta method pays for pooled points twice here: with three hosts a side, host-to-host
# differences look like significant shifts, and a cohort whose hosts failed no background job
# sends no `background-jobs-failed` series at all, which Kayenta reads as no data (the `nodata`
# column; a run without a verdict exits 3 and stops the pipeline, so it counts as stopped).

# %% [markdown]
# ## Choosing
#
# Read each panel from its top-left corner: catch everything, stop nothing healthy. The numbers
# above are recomputed on every run of this notebook; the reading that follows is what to look
# for, not a hard-coded result.
#
# - Making the judge more sensitive (lower confidence, higher alpha, a smaller minimum effect,
#   a higher pass score) moves a point up and to the right: more bad deploys caught, paid for
#   with more false alarms.
# - The subtle problems (latency +10%, errors x3, 3% of jobs failing) sit at the noise level of
#   three hosts for ten minutes; no setting catches them without stopping many good deploys. A
#   team catches those with a longer window or more canary hosts, not a more sensitive judge.
# - Pick the most sensitive setting whose false-alarm rate the team accepts (the seed talk's team
#   deploys 30 times a day: a 5% false-alarm rate is one or two needless stops a day), and run
#   it with `--soft-fail` first, recording runs with `--history`, before trusting it.

# %%
best = (
    pd.concat(sweeps, names=["knob"])
    .query("false_alarm_rate <= 0.05")
    .sort_values(["catch_rate", "false_alarm_rate"], ascending=[False, True])
)
best.head(3)
