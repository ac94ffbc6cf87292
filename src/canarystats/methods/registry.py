"""Judging methods by name: the names config validation accepts, and the method ``judge`` runs.

A method is found by the name a config gives in ``judge.method``.  The built-in methods are
listed here by import path, so reading the names (config validation does it on every load)
imports no statistics; a method's module is imported when a judgment first needs it.  A new
method is one new module in :mod:`canarystats.methods` plus one line in :data:`BUILTIN`;
:func:`register` adds one at run time (a plug-in, a test).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from canarystats.methods.base import JudgingMethod

__all__ = ["BUILTIN", "DEFAULT_METHOD", "get_method", "method_names", "register", "unregister"]

#: the built-in methods: name -> "module:class"
BUILTIN: dict[str, str] = {
    "hosts": "canarystats.methods.hosts:HostsMethod",
    "kayenta": "canarystats.methods.kayenta:KayentaMethod",
}
#: the method of a config that names none
DEFAULT_METHOD = "hosts"

_loaded: dict[str, JudgingMethod] = {}
_registered: dict[str, JudgingMethod] = {}


def method_names() -> tuple[str, ...]:
    """Every method a config may name: the built-in ones, then those registered.

    Examples
    --------
    >>> method_names()[:2]
    ('hosts', 'kayenta')
    """
    return tuple(BUILTIN) + tuple(n for n in _registered if n not in BUILTIN)


def get_method(name: str) -> JudgingMethod:
    """The method called ``name`` (``KeyError`` for an unknown name).

    Examples
    --------
    >>> get_method("kayenta").name
    'kayenta'
    """
    if name in _registered:
        return _registered[name]
    if name not in _loaded:
        module, _, attribute = BUILTIN[name].partition(":")
        _loaded[name] = getattr(importlib.import_module(module), attribute)()
    return _loaded[name]


def register(method: JudgingMethod) -> None:
    """Make ``method`` available under ``method.name`` (replacing a registered one).

    A built-in name cannot be taken: a config that says ``hosts`` always means the built-in.
    """
    if method.name in BUILTIN:
        raise ValueError(f"{method.name!r} is a built-in method; choose another name")
    _registered[method.name] = method


def unregister(name: str) -> None:
    """Remove a method added by :func:`register` (no error if there is none)."""
    _registered.pop(name, None)
