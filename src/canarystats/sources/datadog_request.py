"""What one metric query request to Datadog carries: each metric's queries per cohort, and the
``POST /api/v2/query/timeseries`` body that asks for them with their formulas.

A metric of one cohort is a :class:`Unit`: one query, or the named queries of a formula metric
and the formula over them.  Every unit gets one formula in the request, so each series of the
answer carries its unit's position as ``query_index``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from datadog_api_client.v2.model.metrics_data_source import MetricsDataSource
from datadog_api_client.v2.model.metrics_timeseries_query import MetricsTimeseriesQuery
from datadog_api_client.v2.model.query_formula import QueryFormula
from datadog_api_client.v2.model.timeseries_formula_query_request import (
    TimeseriesFormulaQueryRequest,
)
from datadog_api_client.v2.model.timeseries_formula_request import TimeseriesFormulaRequest
from datadog_api_client.v2.model.timeseries_formula_request_attributes import (
    TimeseriesFormulaRequestAttributes,
)
from datadog_api_client.v2.model.timeseries_formula_request_queries import (
    TimeseriesFormulaRequestQueries,
)
from datadog_api_client.v2.model.timeseries_formula_request_type import (
    TimeseriesFormulaRequestType,
)

from canarystats.config.formulas import rename

__all__ = ["Unit", "v2_body"]


@dataclass(frozen=True)
class Unit:
    """One metric of one cohort as sent: its queries and, for a formula metric, the formula over
    their ``names``.

    Examples
    --------
    >>> Unit(("sum:e{a}", "sum:h{a}"), "e / h", ("e", "h")).describe()
    "'e / h' with e='sum:e{a}', h='sum:h{a}'"
    """

    texts: tuple[str, ...]
    formula: str | None = None
    names: tuple[str, ...] = ()

    def describe(self) -> str:
        """The query (or the formula and its queries) as messages quote it."""
        if self.formula is None:
            return repr(self.texts[0])
        pairs = ", ".join(f"{n}={t!r}" for n, t in zip(self.names, self.texts, strict=True))
        return f"{self.formula!r} with {pairs}"


def v2_body(units: Sequence[Unit], start_ms: int, stop_ms: int, step: int) -> Any:
    """The ``POST /api/v2/query/timeseries`` request for ``units``: one formula per unit, so a
    series' ``query_index`` is its unit's position.

    Examples
    --------
    >>> body = v2_body([Unit(("avg:m{a}",)), Unit(("sum:e{a}", "sum:h{a}"), "e / h", ("e", "h"))],
    ...                0, 60000, 60)
    >>> [f.formula for f in body.data.attributes.formulas]
    ['q0', 'q1 / q2']
    """
    queries: list[MetricsTimeseriesQuery] = []
    formulas: list[QueryFormula] = []
    for unit in units:
        first = len(queries)
        queries += [
            MetricsTimeseriesQuery(
                data_source=MetricsDataSource.METRICS, query=text, name=f"q{first + i}"
            )
            for i, text in enumerate(unit.texts)
        ]
        if unit.formula is None:
            formulas.append(QueryFormula(formula=f"q{first}"))
        else:
            names = {name: f"q{first + i}" for i, name in enumerate(unit.names)}
            formulas.append(QueryFormula(formula=rename(unit.formula, names)))
    return TimeseriesFormulaQueryRequest(
        data=TimeseriesFormulaRequest(
            type=TimeseriesFormulaRequestType.TIMESERIES_REQUEST,
            attributes=TimeseriesFormulaRequestAttributes(
                _from=start_ms,
                to=stop_ms,
                interval=step * 1000,
                queries=TimeseriesFormulaRequestQueries(queries),
                formulas=formulas,
            ),
        )
    )
