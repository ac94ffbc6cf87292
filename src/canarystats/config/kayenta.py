"""Import of Kayenta canary configs (the JSON stored by Kayenta's ``/canaryConfig``).

A Kayenta config is recognised by its shape (``classifier.groupWeights`` or
``metrics[*].analysisConfigurations``) and converted to canarystats' config mapping, which
:func:`canarystats.config.load_config` then validates like any other.  Per-metric settings are
read the way Kayenta's NetflixACAJudge reads them: unknown ``direction`` values mean
``either``, a ``nanStrategy`` other than ``replace`` means ``remove``, an ``effectSize.measure``
other than ``cles`` means the mean ratio.  Kayenta's judge always used confidence 0.98 and
tolerance 0.25, which are canarystats' defaults; ``classifier.scoreThresholds``, ignored by
Kayenta's judge, become ``pass_score``/``marginal_score`` when present.

Only Datadog queries can be fetched by canarystats; a metric of another backend is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from canarystats.errors import ConfigError

_TEMPLATE_VAR = re.compile(r"\$\{([^}]*)\}")


def is_kayenta_config(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` has the shape of a Kayenta canary config.

    Examples
    --------
    >>> is_kayenta_config({"classifier": {"groupWeights": {"a": 100}}, "metrics": []})
    True
    >>> is_kayenta_config({"name": "web", "metrics": [{"name": "m", "query": "q"}]})
    False
    """
    classifier = data.get("classifier")
    if isinstance(classifier, Mapping) and "groupWeights" in classifier:
        return True
    metrics = data.get("metrics")
    return isinstance(metrics, list) and any(
        isinstance(m, Mapping) and "analysisConfigurations" in m for m in metrics
    )


def convert_kayenta_config(data: Mapping[str, Any], *, source: str = "<config>") -> dict[str, Any]:
    """Convert a Kayenta canary config into canarystats' config mapping.

    Parameters
    ----------
    data : mapping
        The parsed Kayenta config JSON.
    source : str
        The file name, used in error messages.

    Returns
    -------
    dict
        A mapping for :func:`canarystats.config.load_config`.

    Raises
    ------
    canarystats.errors.ConfigError
        For a metric whose query cannot be fetched from Datadog, naming its key path.

    Examples
    --------
    >>> out = convert_kayenta_config({
    ...     "name": "app", "classifier": {"groupWeights": {"errors": 100}},
    ...     "metrics": [{"name": "5xx", "groups": ["errors"],
    ...                  "query": {"type": "datadog", "metricName": "sum:http.5xx"},
    ...                  "analysisConfigurations": {"canary": {"direction": "increase"}}}]})
    >>> out["metrics"][0]["query"], out["metrics"][0]["direction"], out["groups"]
    ('sum:http.5xx{$scope}', 'increase', {'errors': 100})
    """
    name = data.get("name")
    out: dict[str, Any] = {"name": name if isinstance(name, str) and name else "kayenta"}
    classifier = _mapping(data.get("classifier"), "classifier", source)
    weights = _mapping(classifier.get("groupWeights"), "classifier.groupWeights", source)
    if weights:
        out["groups"] = dict(weights)
    thresholds = _mapping(classifier.get("scoreThresholds"), "classifier.scoreThresholds", source)
    judge: dict[str, Any] = {}
    if thresholds.get("pass") is not None:
        judge["pass_score"] = thresholds["pass"]
    if thresholds.get("marginal") is not None:
        judge["marginal_score"] = thresholds["marginal"]
    warmup = _warmup_minutes(data, source)
    if warmup is not None:
        judge["warmup"] = f"{warmup}m" if warmup else 0
    if judge:
        out["judge"] = judge
    templates = _mapping(data.get("templates"), "templates", source)
    metrics = data.get("metrics")
    if not isinstance(metrics, list):
        raise ConfigError(f"{source}: metrics: expected a list of metrics")
    out["metrics"] = [_metric(m, f"metrics[{i}]", templates, source) for i, m in enumerate(metrics)]
    return out


def _warmup_minutes(data: Mapping[str, Any], source: str) -> int | None:
    """Kayenta's warm-up, where the file carries one: a canary analysis request's
    ``beginAfterMins``, or the Spinnaker stage's ``beginCanaryAnalysisAfterMins`` (None: none).

    A canary config alone has none: Kayenta takes it from the request that runs the analysis.
    """
    for holder in (data, data.get("executionRequest"), data.get("canaryConfig")):
        if not isinstance(holder, Mapping):
            continue
        for key in ("beginAfterMins", "beginCanaryAnalysisAfterMins"):
            value = holder.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{source}: {key}: expected whole minutes >= 0, got {value!r}")
            return int(value)
    return None


def _mapping(value: Any, path: str, source: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping, ``{}`` where it is absent; else one line naming it."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: {path}: expected a mapping, got {type(value).__name__}")
    return value


def _metric(raw: Any, path: str, templates: Mapping[str, Any], source: str) -> dict[str, Any]:
    raw = _mapping(raw, path, source)
    out: dict[str, Any] = {"name": raw.get("name")}
    out["query"] = _query(raw.get("query"), f"{path}.query", templates, source)
    groups = raw.get("groups")
    if groups:
        # a list is checked like any config's groups; anything else is named as it is
        out["groups"] = list(groups) if isinstance(groups, list) else groups
    configurations = _mapping(
        raw.get("analysisConfigurations"), f"{path}.analysisConfigurations", source
    )
    canary = _mapping(configurations.get("canary"), f"{path}.analysisConfigurations.canary", source)
    direction = canary.get("direction", "either")
    out["direction"] = direction if direction in ("increase", "decrease") else "either"
    out["nan_strategy"] = "replace" if canary.get("nanStrategy") == "replace" else "remove"
    outliers = _mapping(
        canary.get("outliers"), f"{path}.analysisConfigurations.canary.outliers", source
    )
    out["outliers"] = "remove" if outliers.get("strategy") == "remove" else "keep"
    if outliers.get("outlierFactor") is not None:
        out["outlier_factor"] = outliers["outlierFactor"]
    for ours, theirs in (
        ("critical", "critical"),
        ("must_have_data", "mustHaveData"),
        ("muted", "muted"),
    ):
        if theirs in canary:
            out[ours] = canary[theirs]
    effect = _mapping(
        canary.get("effectSize"), f"{path}.analysisConfigurations.canary.effectSize", source
    )
    if effect:
        converted: dict[str, Any] = {
            "measure": "cles" if effect.get("measure") == "cles" else "mean_ratio"
        }
        for ours, theirs in (
            ("allowed_increase", "allowedIncrease"),
            ("allowed_decrease", "allowedDecrease"),
            ("critical_increase", "criticalIncrease"),
            ("critical_decrease", "criticalDecrease"),
        ):
            if effect.get(theirs) is not None:
                converted[ours] = effect[theirs]
        out["effect_size"] = converted
    return out


def _query(raw: Any, path: str, templates: Mapping[str, Any], source: str) -> str:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: {path}: expected a Kayenta query object with a type")
    kind = raw.get("type") or raw.get("serviceType")
    if kind != "datadog":
        raise ConfigError(
            f"{source}: {path}.type: {kind!r} queries cannot be fetched by canarystats; "
            "only datadog metrics can be imported"
        )
    template = raw.get("customInlineTemplate")
    if not template and raw.get("customFilterTemplate"):
        name = raw["customFilterTemplate"]
        if not isinstance(name, str) or name not in templates:
            raise ConfigError(
                f"{source}: {path}.customFilterTemplate: template {name!r} is not in templates"
            )
        template = templates[name]
    if template:
        for var in _TEMPLATE_VAR.findall(str(template)):
            if var != "scope":
                raise ConfigError(
                    f"{source}: {path}: template variable ${{{var}}} has no canarystats "
                    "equivalent; only ${scope} is substituted"
                )
        return str(template)
    metric = raw.get("metricName")
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"{source}: {path}.metricName: missing; a datadog query needs one")
    # Kayenta's default Datadog query is metricName{scope} (DatadogMetricsService.buildQuery).
    return f"{metric}{{$scope}}"
