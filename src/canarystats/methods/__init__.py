"""Judging methods: one module per method behind one protocol (:mod:`canarystats.methods.base`).

``hosts`` (the default) treats each host as one unit; ``kayenta`` pools every point the way
Netflix's Kayenta does.  :mod:`canarystats.methods.registry` finds a method by the name a config
gives; :mod:`~canarystats.methods.wording` and :mod:`~canarystats.methods.diagnostics` hold what
the methods share.
"""

from __future__ import annotations

from canarystats.methods.registry import get_method, method_names, register, unregister

__all__ = ["get_method", "method_names", "register", "unregister"]
