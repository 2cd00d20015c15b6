"""Tables -> readings: what headers, labels and formulas propose, kept only where the table's own arithmetic agrees.

The room between tables and checks. A header that says "Total" proposes that the column is a sum; it
does not say of which columns. Every proposal comes with its competing readings (which components,
which part and whole, which period, which count, which rows), each is evaluated on all the rows
(or columns) where its cells are figures, at once with numpy, and the reading the table obeys is
kept: the one that holds most often, with support that chance cannot explain. Only a kept reading
becomes relations (``rules``); the rows that break it are the findings. A proposal no reading
explains is reported once, in ``explain`` and as one ``info`` note, not row by row.

- ``evidence``: the thresholds (named, with their reasons), ``Reading``, column arrays, the tests.
- ``sums``: Total columns, total rows, "of which" rows.
- ``averages``: per-day averages: which count, which period.
- ``series``: daily tallies: the runs of a stacked table, which change column.
- ``percents``: percentages: which part over which whole.

This room reads figures and decides readings; it never builds a relation, a finding or calls pandera.
"""

from .evidence import Reading, TableFigures

__all__ = ["Reading", "TableFigures"]
