"""Declared rules: what an analyst states about a table when its headers cannot tell.

Three homes, one language (see ``parse``): a "Rules" sheet in the workbook, a tallycheck.toml (or
``[tool.tallycheck]`` in pyproject.toml) beside a folder of workbooks or given with ``--rules``, and
pandera models registered from Python. Every declared rule compiles to the same ``Relation``
instances, checked by the same pandera schemas, as the relations tallycheck infers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import register_model, registered, unregister
    from .parse import RuleSyntaxError, parse_rule
    from .ruleset import KNOWN_RULES, RuleSet, declared_rules
    from .sources import find_config, rules_fingerprint

__all__ = [
    "KNOWN_RULES", "RuleSet", "RuleSyntaxError", "declared_rules", "find_config", "parse_rule", "register_model",
    "registered", "rules_fingerprint", "unregister",
]

def __getattr__(name: str) -> Any:
    # Lazy: every check asks for the declared rules, and most workbooks declare none; the rule
    # language (parse, compile) is imported only when there is a rule to read.
    if name in ("register_model", "registered", "unregister"):
        from . import models as home
    elif name in ("RuleSyntaxError", "parse_rule"):
        from . import parse as home
    elif name in ("KNOWN_RULES", "RuleSet", "declared_rules"):
        from . import ruleset as home
    elif name in ("find_config", "rules_fingerprint"):
        from . import sources as home
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(home, name)
