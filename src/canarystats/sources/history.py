"""A saved history of many canary runs, served back as a :class:`~canarystats.sources.Source`.

A backtest replays past deploys: for each one it asks a source for the canary and baseline
scopes over the deploy's window.  :class:`HistorySource` answers those questions from one tidy
frame that holds every deploy (``fixtures/history/history.csv`` is such a frame, with a leading
``deploy`` column), so a backtest runs offline exactly as it would against Datadog.

How a request finds its rows:

- with a deploy table (``deploy``, ``canary_scope``, ``baseline_scope``, ``start``, ``end``) and
  a ``deploy`` column in the frame, a request whose scopes are a deploy's scopes gets that
  deploy's rows, cut to the requested window (so "the first 3 minutes of d0042" works);
- otherwise (no table, or scopes that match no deploy) the rows are selected by the window
  alone: a history whose windows never overlap needs nothing else.

The frame is sorted once by time, so each request is a binary search and a slice, not a scan.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from canarystats.errors import DataError
from canarystats.frame import validate_frame
from canarystats.sources.base import MetricQuery, check_scopes, check_window
from canarystats.timeparse import EARLIEST, LATEST

__all__ = ["DEPLOY_COLUMNS", "HistorySource", "read_deploys"]

#: columns of a deploy table; ``deploy`` and ``outcome`` are optional
DEPLOY_COLUMNS = ("deploy", "canary_scope", "baseline_scope", "start", "end", "outcome")
_REQUIRED = ("canary_scope", "baseline_scope", "start", "end")
OUTCOMES = ("good", "bad")
#: what :func:`read_deploys` accepts: a frame, a list of dicts, or the path of a CSV
DeployTable = pd.DataFrame | Sequence[Mapping[str, object]] | str | os.PathLike[str]


def read_deploys(
    deploys: DeployTable,
    origin: str = "deploys",
) -> pd.DataFrame:
    """Check a deploy table and return it with canonical columns and dtypes.

    Parameters
    ----------
    deploys : DataFrame, list of dicts, or path of a CSV file
        One row per deploy: ``canary_scope``, ``baseline_scope``, ``start``, ``end`` (ISO 8601
        UTC, the judged window ``[start, end)``), optionally ``deploy`` (an id; default
        ``"0"``, ``"1"``, ...) and ``outcome`` (``good``, ``bad`` or empty for unknown).  Other
        columns (``problem``, ``note``) are kept.
    origin : str
        What the table came from, for messages (a path is its own origin).

    Returns
    -------
    pandas.DataFrame
        ``deploy`` (str, unique), the scopes (str), ``start``/``end`` (datetime64[ns, UTC]),
        ``outcome`` (``good``/``bad``, NA when unknown), then any other columns.

    Raises
    ------
    canarystats.errors.DataError
        Naming ``origin``, the column and what to write instead.

    Examples
    --------
    >>> d = read_deploys([{"canary_scope": "version:2", "baseline_scope": "version:1",
    ...                    "start": "2026-01-01T10:00:00Z", "end": "2026-01-01T10:10:00Z",
    ...                    "outcome": "bad"}])
    >>> d.loc[0, "deploy"], str(d.loc[0, "end"]), d.loc[0, "outcome"]
    ('0', '2026-01-01 10:10:00+00:00', 'bad')
    """
    if isinstance(deploys, (str, os.PathLike)):
        origin = str(deploys)
        try:
            table = pd.read_csv(deploys, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise DataError(f"{origin}: no such deploys file; check the path") from None
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{origin}: cannot read the deploys CSV ({first})") from None
    elif isinstance(deploys, pd.DataFrame):
        table = deploys.copy()
    else:
        try:
            table = pd.DataFrame(list(deploys))
        except (TypeError, ValueError):
            raise DataError(
                f"{origin}: give a DataFrame or a list of dicts, one per deploy"
            ) from None
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise DataError(
            f"{origin}: column {missing[0]!r} is missing; a deploy table needs "
            f"{', '.join(_REQUIRED)} (and optionally deploy, outcome)"
        )
    if "deploy" not in table.columns:
        table.insert(0, "deploy", [str(i) for i in range(len(table))])
    table["deploy"] = table["deploy"].astype(str)
    duplicated = table["deploy"][table["deploy"].duplicated()]
    if len(duplicated):
        raise DataError(
            f"{origin}: deploy {duplicated.iloc[0]!r} appears twice; give each deploy its own id"
        )
    for column in ("canary_scope", "baseline_scope"):
        values = table[column]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            where = table["deploy"][empty].iloc[0]
            raise DataError(f"{origin}: deploy {where!r} has an empty {column}; fill it in")
        table[column] = values.astype(str)
    for column in ("start", "end"):
        table[column] = _utc(table[column], f"{origin}: column {column!r}")
    bad_window = table["end"] <= table["start"]
    if bad_window.any():
        where = table["deploy"][bad_window].iloc[0]
        raise DataError(f"{origin}: deploy {where!r} has end not after start; fix its window")
    table["outcome"] = _outcomes(table, origin)
    rest = [c for c in table.columns if c not in DEPLOY_COLUMNS]
    return table[list(DEPLOY_COLUMNS) + rest].reset_index(drop=True)


def _utc(column: pd.Series, what: str) -> pd.Series:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(column.dtype):
        raise DataError(f"{what} has times without a timezone; give UTC times (...Z)")
    try:
        parsed = pd.to_datetime(column, utc=True, format="ISO8601")
    except (TypeError, ValueError):
        raise DataError(
            f"{what} has a value that is not an ISO 8601 time; write e.g. 2026-01-01T00:00:00Z"
        ) from None
    if parsed.isna().any():
        raise DataError(f"{what} has empty cells; give every deploy its window")
    outside = (parsed < pd.Timestamp(EARLIEST)) | (parsed >= pd.Timestamp(LATEST))
    if outside.any():
        raise DataError(
            f"{what} has the time {column[outside].iloc[0]!r}, outside the years "
            f"{EARLIEST.year}-{LATEST.year - 1}; fix its window"
        )
    return parsed.astype("datetime64[ns, UTC]")


def _outcomes(table: pd.DataFrame, origin: str) -> pd.Series:
    if "outcome" not in table.columns:
        return pd.Series([None] * len(table), index=table.index, dtype=object)
    raw = table["outcome"]
    text = raw.where(raw.notna(), "").astype(str).str.strip().str.lower()
    bad = ~text.isin((*OUTCOMES, "", "nan", "none"))
    if bad.any():
        where = table["deploy"][bad].iloc[0]
        raise DataError(
            f"{origin}: deploy {where!r} has outcome {raw[bad].iloc[0]!r}; "
            "use good, bad, or leave it empty when unknown"
        )
    return text.where(text.isin(OUTCOMES), None).astype(object)


class HistorySource:
    """Serve a saved multi-deploy tidy frame by scope and window, like a metrics backend.

    Parameters
    ----------
    frame : pandas.DataFrame
        The tidy frame of every deploy; a ``deploy`` column ties rows to deploys.
    deploys : DataFrame, list of dicts or path, optional
        The deploy table (see :func:`read_deploys`) mapping scopes to deploys.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats.sources import MetricQuery
    >>> f = pd.DataFrame({"metric": "cpu", "cohort": ["canary", "baseline"], "host": "h",
    ...                   "timestamp": ["2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z"],
    ...                   "value": [1.0, 2.0]})
    >>> src = HistorySource(f)
    >>> out = src.fetch([MetricQuery("cpu", "q")], {"canary": "a", "baseline": "b"},
    ...                 pd.Timestamp("2026-01-01T10:00Z"), pd.Timestamp("2026-01-01T10:01Z"))
    >>> out["value"].tolist()
    [1.0, 2.0]
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        deploys: pd.DataFrame
        | Sequence[Mapping[str, object]]
        | str
        | os.PathLike[str]
        | None = None,
    ) -> None:
        tidy = validate_frame(frame, "history")
        has_deploy = "deploy" in tidy.columns
        if has_deploy:
            tidy["deploy"] = tidy["deploy"].astype(str)
        stamps = tidy["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        # Sorted by deploy, then time: a deploy's rows are one slice and, inside it, a window is
        # a binary search.  Without deploys the whole frame is one slice sorted by time.
        keys = (stamps, tidy["deploy"].to_numpy()) if has_deploy else (stamps,)
        order = np.lexsort(keys)
        self._frame = tidy.iloc[order].reset_index(drop=True)
        self._stamps: NDArray[np.int64] = stamps[order]
        self._spans: dict[str, tuple[int, int]] = {}
        self._by_scopes: dict[tuple[str, str], list[str]] = {}
        self._by_time: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        if has_deploy:
            ids = self._frame["deploy"].to_numpy()
            cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
            lo = np.concatenate(([0], cuts))
            hi = np.concatenate((cuts, [len(ids)]))
            self._spans = {str(ids[a]): (int(a), int(b)) for a, b in zip(lo, hi, strict=True)}
        else:
            self._by_time = (self._stamps, np.arange(len(self._stamps)))
        if deploys is not None:
            table = read_deploys(deploys)
            for d, c, b in zip(
                table["deploy"], table["canary_scope"], table["baseline_scope"], strict=True
            ):
                self._by_scopes.setdefault((c, b), []).append(d)

    @classmethod
    def from_files(
        cls, frame_path: str | os.PathLike[str], deploys_path: DeployTable | None = None
    ) -> HistorySource:
        """Read the history frame (CSV/Parquet/JSON) and, optionally, its deploy table (CSV).

        Examples
        --------
        >>> src = HistorySource.from_files("history.csv", "deploys.csv")  # doctest: +SKIP
        """
        from canarystats.sources.files import read_frame

        # read_frame drops nothing: the deploy column survives as an extra column.
        return cls(read_frame(frame_path), deploys_path)

    @property
    def deploys(self) -> tuple[str, ...]:
        """The deploy ids the frame holds (empty when it has no ``deploy`` column)."""
        return tuple(self._spans)

    def fetch(
        self,
        queries: Sequence[MetricQuery],
        scopes: Mapping[str, str],
        start: datetime,
        end: datetime,
    ) -> pd.DataFrame:
        """Return the tidy frame of ``queries`` for the deploy with these scopes in the window.

        Rows are the points whose timestamp lies in ``[start, end)``, of the deploy whose
        scopes are ``scopes`` when the deploy table knows them.  Cohorts not in ``scopes`` are
        left out.  The ``deploy`` column is kept.
        """
        scopes = check_scopes(scopes)
        start, end = check_window(start, end)
        key = (scopes.get("canary", ""), scopes.get("baseline", ""))
        positions = self._positions(key, pd.Timestamp(start).value, pd.Timestamp(end).value)
        rows = self._frame.iloc[positions]
        names = [q.name for q in queries]
        rows = rows[rows["metric"].isin(names) & rows["cohort"].isin(list(scopes))]
        out = rows.reset_index(drop=True)
        out.attrs = {"units": {}, "requests": 0, "window": (start, end)}
        return out

    def fetch_deploys(self, queries: Sequence[MetricQuery], deploys: pd.DataFrame) -> pd.DataFrame:
        """Fetch many deploys at once: what :meth:`fetch` gives each, in one frame.

        Parameters
        ----------
        queries : sequence of MetricQuery
            The metrics.
        deploys : pandas.DataFrame
            A deploy table (:func:`read_deploys`).

        Returns
        -------
        pandas.DataFrame
            The tidy frame with ``deploy`` set to the table's deploy id of each row.

        Examples
        --------
        >>> frame = source.fetch_deploys(queries, read_deploys("deploys.csv"))  # doctest: +SKIP
        """
        table = read_deploys(deploys)
        pieces = []
        owners = []
        for d, c, b, start, end in zip(
            table["deploy"],
            table["canary_scope"],
            table["baseline_scope"],
            table["start"],
            table["end"],
            strict=True,
        ):
            p = self._positions((c, b), start.value, end.value)
            pieces.append(p)
            owners.append(np.full(len(p), d, dtype=object))
        positions = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        rows = self._frame.iloc[positions].copy()
        rows["deploy"] = np.concatenate(owners) if owners else np.zeros(0, dtype=object)
        names = [q.name for q in queries]
        rows = rows[rows["metric"].isin(names)]
        return rows.reset_index(drop=True)

    def _positions(self, key: tuple[str, str], lo_t: int, hi_t: int) -> NDArray[np.int64]:
        """Row positions of the deploy(s) with these scopes in ``[lo_t, hi_t)`` (ns)."""
        candidates = self._by_scopes.get(key)
        if not candidates:
            return self._window_positions(lo_t, hi_t)
        parts = []
        for d in candidates:
            a, b = self._spans.get(d, (0, 0))
            stamps = self._stamps[a:b]
            i = a + int(np.searchsorted(stamps, lo_t, side="left"))
            j = a + int(np.searchsorted(stamps, hi_t, side="left"))
            parts.append(np.arange(i, j, dtype=np.int64))
        return np.concatenate(parts)

    def _window_positions(self, lo_t: int, hi_t: int) -> NDArray[np.int64]:
        if self._by_time is None:
            # Deploy-sorted frame: build a time index once, on the first window-only request.
            order = np.argsort(self._stamps, kind="stable")
            self._by_time = (self._stamps[order], order)
        stamps, order = self._by_time
        i = int(np.searchsorted(stamps, lo_t, side="left"))
        j = int(np.searchsorted(stamps, hi_t, side="left"))
        return np.sort(order[i:j]).astype(np.int64)
