"""Evaluation cases from the ASD real-data set (12 peer servers, 19 metrics, expert labels).

The data set (MIT licence) is not shipped with canarystats: it is read from a
``shared/realdata/asd`` folder beside the checkout, and :func:`find_asd` returns ``None`` where it
is absent, so callers skip.  The benchmarks, the real-data notebook and the tests read cases
through this module, by the rules below.

Cases (step indices are half-open ``[start, end)``; expected outcomes come from the labels only):

* **A/A healthy** (expected pass): 1-2 canary servers and 3-5 baseline servers drawn at random, a
  1-12 h window (12-144 steps), no labelled point on any involved server within the window +-12
  steps, metrics that are not constant across them.  Drawn from the test split (holdout-style) and,
  many more, from the unlabelled training split.  Each draw carries 10 distinct metrics, so the
  same draws give the per-metric false-fail rate and a 10-metric config's any-fail rate.
* **A/B incident** (expected fail): each labelled segment of at least 6 steps with at least 3 other
  servers clean within the segment +-6 steps; canary = the labelled server, baseline = the clean
  servers, window = the segment, one case per metric the experts listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

N_HOSTS = 12
N_METRICS = 19
METRICS = tuple(f"m{i:02d}" for i in range(1, N_METRICS + 1))
HOSTS = tuple(f"omi-{i}" for i in range(1, N_HOSTS + 1))


def find_asd(start: Path | None = None) -> Path | None:
    """The ASD folder of the shared data beside a checkout, or None where it is absent.

    Looks for ``shared/realdata/asd`` in ``start`` (default: the working folder) and each folder
    above it, so it is found from the repository, its notebooks or its benchmarks.

    Examples
    --------
    >>> find_asd(Path("/nonexistent")) is None
    True
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        path = folder / "shared" / "realdata" / "asd"
        if (path / "asd_test.csv").is_file():
            return path
    return None


@dataclass(frozen=True)
class Segment:
    """One expert-labelled anomaly segment of the test split."""

    host: int
    start: int
    end: int  # exclusive
    kind: str
    metrics: tuple[int, ...]  # 0-based metric indices


@dataclass(frozen=True)
class ASD:
    """The data set as arrays: ``(host, step, metric)`` values (NaN where a host has no point)."""

    train: NDArray[np.float64]
    test: NDArray[np.float64]
    label: NDArray[np.bool_]  # (host, step) of the test split
    segments: tuple[Segment, ...]


def _cube(
    path: Path, steps: int, with_label: bool
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    import pandas as pd

    frame = pd.read_csv(path)
    host = frame["host"].map({h: i for i, h in enumerate(HOSTS)}).to_numpy()
    step = frame["step"].to_numpy()
    values = np.full((N_HOSTS, steps, N_METRICS), np.nan)
    values[host, step] = frame[list(METRICS)].to_numpy(dtype=np.float64)
    label = np.zeros((N_HOSTS, steps), dtype=bool)
    if with_label:
        label[host, step] = frame["label"].to_numpy() == 1
    return values, label


def load_asd(path: Path | None = None) -> ASD:
    """Read the ASD CSV files into arrays (about 2 s).

    Raises
    ------
    FileNotFoundError
        Where the data is not there; callers check :func:`find_asd` first to skip cleanly.
    """
    import pandas as pd

    root = path or find_asd()
    if root is None:
        raise FileNotFoundError("../shared/realdata/asd is not beside the repository")
    test, label = _cube(root / "asd_test.csv", 4320, with_label=True)
    train, _ = _cube(root / "asd_train.csv", 8640, with_label=False)
    seg = pd.read_csv(root / "asd_test_anomaly_segments.csv")
    segments = tuple(
        Segment(
            host=HOSTS.index(str(host)),
            start=int(start),
            end=int(last) + 1,
            kind=str(kind),
            metrics=tuple(int(m[1:]) - 1 for m in str(listed).split()),
        )
        for host, start, last, kind, listed in zip(
            seg["host"].to_numpy(),
            seg["start_step"].to_numpy(dtype=np.int64),
            seg["end_step_inclusive"].to_numpy(dtype=np.int64),
            seg["anomaly_type"].to_numpy(),
            seg["labelled_metrics"].to_numpy(),
            strict=True,
        )
    )
    return ASD(train=train, test=test, label=label, segments=segments)


@dataclass(frozen=True)
class Cases:
    """Canary/baseline windows, one row per (case, metric), ready for the batched kernels.

    ``canary`` is ``(row, host, time)`` and ``baseline`` likewise, NaN-padded; ``case`` says which
    draw or segment a row belongs to (rows of one case form one config).
    """

    canary: NDArray[np.float64]
    baseline: NDArray[np.float64]
    case: NDArray[np.int64]
    metric: NDArray[np.int64]
    window: NDArray[np.int64]
    canary_hosts: NDArray[np.int64]  # (row, host) server indices, -1 padding
    baseline_hosts: NDArray[np.int64]


def _pack(
    split: NDArray[np.float64],
    picks: list[tuple[list[int], list[int], int, int, list[int]]],
) -> Cases:
    kmax = max(len(p[0]) for p in picks)
    bmax = max(len(p[1]) for p in picks)
    tmax = max(p[3] - p[2] for p in picks)
    rows = sum(len(p[4]) for p in picks)
    canary = np.full((rows, kmax, tmax), np.nan)
    baseline = np.full((rows, bmax, tmax), np.nan)
    case = np.empty(rows, dtype=np.int64)
    metric = np.empty(rows, dtype=np.int64)
    window = np.empty(rows, dtype=np.int64)
    canary_hosts = np.full((rows, kmax), -1, dtype=np.int64)
    baseline_hosts = np.full((rows, bmax), -1, dtype=np.int64)
    r = 0
    for i, (can, base, start, end, mets) in enumerate(picks):
        n = len(mets)
        length = end - start
        # (host, time, metric) -> (metric, host, time)
        canary[r : r + n, : len(can), :length] = split[can, start:end][:, :, mets].transpose(
            2, 0, 1
        )
        baseline[r : r + n, : len(base), :length] = split[base, start:end][:, :, mets].transpose(
            2, 0, 1
        )
        case[r : r + n] = i
        metric[r : r + n] = mets
        window[r : r + n] = length
        canary_hosts[r : r + n, : len(can)] = can
        baseline_hosts[r : r + n, : len(base)] = base
        r += n
    return Cases(
        canary=canary,
        baseline=baseline,
        case=case,
        metric=metric,
        window=window,
        canary_hosts=canary_hosts,
        baseline_hosts=baseline_hosts,
    )


def healthy_cases(
    data: ASD,
    *,
    split: str,
    draws: int,
    seed: int,
    metrics_per_draw: int = 10,
    guard: int = 12,
) -> Cases:
    """A/A draws: 1-2 canary and 3-5 baseline servers, 12-144 steps, ``metrics_per_draw`` metrics.

    ``split`` is ``"test"`` (labels known: no labelled point within the window +- ``guard``) or
    ``"train"`` (unlabelled, mostly normal; omi-12 lacks its first 1349 steps, so windows where a
    drawn server has no data are redrawn).
    """
    values = data.test if split == "test" else data.train
    label = data.label if split == "test" else np.zeros(values.shape[:2], dtype=bool)
    rng = np.random.default_rng(seed)
    steps = values.shape[1]
    picks: list[tuple[list[int], list[int], int, int, list[int]]] = []
    while len(picks) < draws:
        k = int(rng.integers(1, 3))
        m = int(rng.integers(3, 6))
        hosts = rng.permutation(N_HOSTS)[: k + m].tolist()
        length = int(rng.integers(12, 145))
        start = int(rng.integers(0, steps - length + 1))
        end = start + length
        lo, hi = max(0, start - guard), min(steps, end + guard)
        if label[hosts, lo:hi].any():
            continue
        window = values[hosts, start:end]
        if np.isnan(window).any():
            continue
        # A metric constant across every involved server cannot tell anything apart.
        varying = np.flatnonzero(np.ptp(window.reshape(-1, N_METRICS), axis=0) > 0)
        if len(varying) < metrics_per_draw:
            continue
        mets = np.sort(rng.choice(varying, size=metrics_per_draw, replace=False)).tolist()
        picks.append((hosts[:k], hosts[k:], start, end, mets))
    return _pack(values, picks)


def incident_cases(data: ASD, *, min_length: int = 6, guard: int = 6, min_peers: int = 3) -> Cases:
    """A/B cases: every labelled segment of ``min_length`` steps with ``min_peers`` clean peers.

    One row per (segment, listed metric); ``case`` numbers the segments kept.
    """
    picks: list[tuple[list[int], list[int], int, int, list[int]]] = []
    steps = data.test.shape[1]
    for seg in data.segments:
        if seg.end - seg.start < min_length:
            continue
        lo, hi = max(0, seg.start - guard), min(steps, seg.end + guard)
        peers = [h for h in range(N_HOSTS) if h != seg.host and not data.label[h, lo:hi].any()]
        if len(peers) < min_peers:
            continue
        picks.append(([seg.host], peers, seg.start, seg.end, list(seg.metrics)))
    return _pack(data.test, picks)
