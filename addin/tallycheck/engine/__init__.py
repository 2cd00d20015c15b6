"""The engine: workbooks in, findings out, one room a stage, data flowing one way.

    grid -> tables -> hypotheses -> rules -> checks (pandera) -> findings -> messages

- ``grid``: the file read once (values, formulas, formats, merged cells), hostile files refused.
- ``figures``, ``periods``: what a cell's figure and a label's period mean, as intervals and days.
- ``tables``: where the tables are, their header, label column, rows and column roles.
- ``hypotheses``: what the headers propose, kept only where the table's own arithmetic agrees.
- ``rules``: the kept readings as ``relations.Relation`` instances, cell by cell, or as
  ``relations.Rows`` blocks (a daily series' claims as arrays, a Relation built only for a day that fails).
- ``checks``: every relation of a kind validated once by pandera, for the whole run.
- ``findings``, ``messages``: what broke, named by real cells, in the sentence a person reads.
- ``run``: the stages in order, for one workbook or thousands (``check_workbooks``).

The front doors (``cli``, ``batch``, ``excel``, ``marks``, ``run_report``, ``explain``) stand
outside; the rule language (``declared``) compiles into the same relations, and nothing in here but
``run`` reaches out to it.
"""

from .run import (
    WORKBOOK_SUFFIXES,
    Report,
    TableSummary,
    check_books,
    check_workbook,
    check_workbooks,
    data_sheets,
    table_relations,
    workbook_paths,
)

__all__ = [
    "WORKBOOK_SUFFIXES", "Report", "TableSummary", "check_books", "check_workbook", "check_workbooks",
    "data_sheets", "table_relations", "workbook_paths",
]
