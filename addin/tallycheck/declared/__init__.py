"""Declared rules: what an analyst states about a table when its headers cannot tell.

Three homes, one language (see ``parse``): a "Rules" sheet in the workbook, a tallycheck.toml (or
``[tool.tallycheck]`` in pyproject.toml) beside a folder of workbooks or given with ``--rules``, and
pandera models registered from Python. Every declared rule compiles to the same ``Relation``
instances, checked by the same pandera schemas, as the relations tallycheck infers.
"""

from __future__ import annotations

from .models import register_model, registered, unregister
from .parse import RuleSyntaxError, parse_rule
from .ruleset import KNOWN_RULES, RuleSet, declared_rules
from .sources import find_config, rules_fingerprint

__all__ = [
    "KNOWN_RULES", "RuleSet", "RuleSyntaxError", "declared_rules", "find_config", "parse_rule", "register_model",
    "registered", "rules_fingerprint", "unregister",
]
