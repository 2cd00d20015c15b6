"""Declared rules: the rule language, its three homes, rule errors, explain and schema, on real workbooks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import EXAMPLES, flagged, run_cli
from tallycheck import check_workbook
from tallycheck.declared import parse_rule
from tallycheck.declared.parse import Claim, RuleSyntaxError, Switch, show_claim

RULES = ["Where", "Rule", "Tolerance", "Severity", "Comment"]


run = run_cli


def by_rule(report, rule: str) -> list:
    return [f for f in report.findings if f.rule == rule]


# ---------------------------------------------------------------- the language


@pytest.mark.parametrize(
    "text",
    [
        "Total = Killed + Wounded + Missing",
        "Per day = Losses / days(Year)",
        "Cumulative = previous(Cumulative) + Daily change",
        "Low <= Best <= High",
        "% wounded = Wounded / Total * 100",
        'row "Total" = sum(rows above)',
        "Summary!C4 = Breakdown!E12",
        "'By year'!C4 = sum(Breakdown!E5:E12)",
        "Share (%) = [Re-conscripted] / Total * 100",
        'row "Total" = row "A" + row "B"',
        'Total = sum(rows "2022" to "2024")',
        "Killed >= 0",
        "Rate = Killed / (Population - Displaced) * 1000",
    ],
)
def test_every_rule_form_parses_and_reads_back(text):
    rule = parse_rule(text)
    assert isinstance(rule, Claim)
    assert parse_rule(show_claim(rule)) == rule


def test_switches_parse():
    assert parse_rule("ignore per_day") == Switch("ignore", ("per_day",), text="ignore per_day")
    ignore = parse_rule("ignore cumulative_falls at B12, C3:C5")
    assert ignore.rules == ("cumulative_falls",) and ignore.cells == ("B12", "C3:C5")
    assert parse_rule("ignore B12").rules == ("all",)
    tol = parse_rule("tolerance 1% for sum, total_row")
    assert (tol.amount.percent, tol.rules) == (1.0, ("sum", "total_row"))
    assert parse_rule("tolerance 5").amount.absolute == 5
    assert parse_rule('missing -999, "n/a", unknown').values == (-999.0, "n/a", "unknown")
    assert parse_rule("severity warning for percent").severity == "warning"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Total = Killed +", "after '+' at the end"),
        ("Total = (Killed + Wounded", "missing ')' for the '(' at character 9"),
        ("Total = days(Year", "missing ')' to close days("),
        ('Total = "Killed"', 'write row "Killed"'),
        ("Totl Killed", "a relation needs ="),
        ("ignor sum", "did you mean 'ignore'?"),
        ("a <= b >= c", "one way"),
        ("tolerance lots", "not a number"),
        ("x = 2024 losses", "expected an operator"),
        ("x = previous(1)", "previous() takes one column"),
    ],
)
def test_syntax_errors_say_what_was_expected_and_where(text, says):
    with pytest.raises(RuleSyntaxError) as err:
        parse_rule(text)
    assert says in err.value.message


# ---------------------------------------------------------------- every form on a real workbook


def test_each_rule_form_checks_a_table_the_headers_cannot_explain(write_book):
    """Headers tallycheck does not recognise: only the declared rules make these checks."""
    path = write_book({
        "Parts": [
            ["Unit", "Dead", "Hurt", "Casualties", "Share dead", "Population", "Per 1000"],
            ["A", 10, 20, 30, 33.3, 10_000, 3.0],  # 10 / 10,000 * 1000 = 1, not 3
            ["B", 5, 5, 11, 50.0, 2_000, 2.5],  # 11 should be 10; 5 / 11 = 45.5%, not 50
            ["Combined", 15, 25, 41, 36.6, 12_000, 1.3],  # 41 should be 40
        ],
        "Years": [
            ["Period", "Losses", "Rate"],
            ["2023", 36_500, 101],  # 36,500 / 365 = 100
            ["2024", 36_600, 100],  # 36,600 / 366 = 100
        ],
        "Tally": [
            ["Day", "Running", "Added"],
            [date(2025, 1, 1), 100, None],
            [date(2025, 1, 2), 110, 10],
            [date(2025, 1, 3), 125, 14],  # rose by 15
        ],
        "Range": [["Source", "Floor", "Point", "Ceiling"], ["X", 1, 2, 3], ["Y", 5, 4, 6]],
        "Summary": [["What", "Figure"], ["Dead", 16], ["Note", "as published"]],
        "Rules": [
            RULES,
            ["Parts", "Casualties = Dead + Hurt", None, None, "components"],
            ["Parts", "Share dead = Dead / Casualties * 100", None, None, None],
            ["Parts", "ignore shares_total", None, None, "shares of each unit's casualties, not of a whole"],
            ["Parts", "Per 1000 = Dead / Population * 1000", None, None, None],
            ["Years", "Rate = Losses / days(Period)", None, None, None],
            ["Tally", "Running = previous(Running) + Added", None, None, None],
            ["Range", "Floor <= Point <= Ceiling", None, None, None],
            ["", "Summary!B2 = Parts!B4", None, None, "the same figure twice"],
        ],
    })
    report = check_workbook(path)
    assert flagged(report) == {
        ("Parts", "D3", "sum", "error"),
        ("Parts", "D4", "sum", "error"),
        ("Parts", "E3", "percent", "error"),
        ("Parts", "G2", "expression", "error"),
        ("Years", "C2", "per_day", "error"),  # 36,500 / 365 = 100, not 101
        ("Tally", "B4", "cumulative", "error"),  # rose by 15, the change says 14
        ("Range", "C3", "order", "error"),  # Floor 5 above Point 4
        ("Summary", "B2", "sum", "error"),  # 16 here, 15 on Parts
    }
    messages = {f.cell: f.message for f in report.findings if f.sheet == "Parts"}
    assert messages["D3"] == "Casualties 11 should equal Dead + Hurt = 10 (off by 1) (declared on row 2 of Rules)"
    assert messages["G2"].startswith("Per 1000 3 should equal Dead / Population * 1000 = 10 / 10,000 * 1000 = 1 (off by 2")
    tally = by_rule(report, "cumulative")[0]
    assert tally.cells == ("B3", "C4", "B4") and "Added says 14" in tally.message
    (summary,) = [f for f in report.findings if f.sheet == "Summary"]
    assert summary.cells == ("Parts!B4", "B2") and summary.message.startswith("Summary!B2 16 should equal Parts!B4 = 15")
    assert not by_rule(report, "rule_error")


def test_declared_rules_compile_to_the_very_relations_inference_makes(write_book):
    from tallycheck.declared import declared_rules
    from tallycheck.engine import table_relations
    from tallycheck.engine.grid import read_workbook
    from tallycheck.engine.tables import find_tables

    rows = [["Year", "Killed", "Wounded", "Total", "Per day", "% wounded"], ["2023", 1000, 2000, 3100, 8.5, 64.5], ["2024", 500, 500, 1000, 2.7, 50.0]]
    plain = write_book({"S": rows}, name="plain.xlsx")
    declared = write_book({"S": rows, "Rules": [RULES, ["S", "Total = Killed + Wounded"], ["S", "Per day = Total / days(Year)"],
                                                  ["S", "% wounded = Wounded / Total * 100"]]}, name="declared.xlsx")

    def relations(path, with_rules):
        book = read_workbook(path)
        ruleset = declared_rules(book) if with_rules else None
        (table,) = find_tables(book.sheets[0])
        return table_relations(table, ruleset)[0]

    inferred, stated = relations(plain, False), relations(declared, True)
    assert len(inferred) == len(stated) == 6
    key = lambda r: (r.kind, r.rule, r.sheet, r.table, r.cell, r.cells, r.found, r.expected, r.tolerance, r.strict, r.rounded)  # noqa: E731
    assert sorted(map(key, inferred)) == sorted(map(key, stated))
    assert {r.kind: r.facts["declared"] for r in stated} == {
        "sum": "declared on row 2 of Rules", "per_day": "declared on row 3 of Rules", "percent": "declared on row 4 of Rules",
    }
    # and one finding for one discrepancy, not two (inferred and declared are the same relation)
    assert flagged(check_workbook(declared)) == flagged(check_workbook(plain)) == {("S", "D2", "sum", "error")}


def test_row_rules_by_label_range_and_explicit_rows(write_book):
    path = write_book({"S": [
        ["Region", "Killed", "Wounded"],
        ["North", 1, 2], ["South", 3, 4], ["East", 5, 6],
        ["North and South", 4, 6],
        ["All regions", 9, 13],
    ], "Rules": [RULES,
                 ["S", 'row "North and South" = row "North" + row "South"'],
                 ["S", 'row "All regions" = sum(rows "North" to "East")']]})
    report = check_workbook(path)
    assert flagged(report) == {("S", "C6", "total_row", "error")}  # 2 + 4 + 6 = 12, not 13
    (f,) = report.findings
    assert f.cells == ("C2", "C3", "C4", "C6")
    assert "All regions Wounded 13 should equal the sum of rows 2–4 (North … East) = 12" in f.message


def test_switches_ignore_tolerance_missing_and_severity(write_book):
    table = [
        ["Unit", "Killed", "Wounded", "Total"],
        ["A", 100, 200, 304],  # off by 4
        ["B", 1000, 2000, 3030],  # off by 30 (1%)
        ["C", -999, 20, 20],  # -999 means no figure
        ["D", 1, 1, 5],  # off by 3 - ignored at D5
    ]
    path = write_book({"Abs": table, "Pct": table, "Rules": [
        RULES,
        ["Abs", "tolerance 5"],
        ["Pct", "tolerance 1%"],
        ["", "missing -999"],
        ["", "ignore sum at D5"],
        ["Abs", "severity warning for sum"],
    ]})
    report = check_workbook(path)
    assert flagged(report) == {("Abs", "D3", "sum", "warning"), ("Pct", "D2", "sum", "error")}
    # without the switches no row agrees with Total = Killed + Wounded: a wrong reading, not four errors
    bare = check_workbook(write_book({"Abs": table}, name="bare.xlsx"))
    assert [(f.cell, f.severity) for f in bare.findings] == [("D1", "info")]
    assert "holds in 0 of 4 rows; not checked" in bare.findings[0].message


def test_ignore_silences_an_inferred_check_at_one_cell(tmp_path):
    path = EXAMPLES / "ua-general-staff-daily.xlsx"
    before = check_workbook(path)
    assert ("APC", "B12", "cumulative_falls", "error") in flagged(before)
    rules = tmp_path / "tallycheck.toml"
    rules.write_text('[[rules]]\nwhere = "APC"\nrule = "ignore cumulative_falls at B12"\ncomment = "the publisher\'s correction of 13 Oct 2022"\n')
    after = check_workbook(path, rules=rules)
    assert flagged(after) == flagged(before) - {("APC", "B12", "cumulative_falls", "error")}


def test_declared_tolerance_and_severity_columns(write_book):
    path = write_book({"S": [["Unit", "Killed", "Wounded", "All"], ["A", 100, 200, 302], ["B", 1, 2, 9]],
                       "Rules": [RULES, ["S", "All = Killed + Wounded", 2, "warning", "rounded by the source"]]})
    report = check_workbook(path)
    assert flagged(report) == {("S", "D3", "sum", "warning")}
    assert report.findings[0].tolerance == 2


# ---------------------------------------------------------------- rule errors


def test_rule_errors_say_where_and_what_was_meant_and_the_other_rules_still_run(write_book):
    path = write_book({
        "Losses": [["Category", "Killed", "Wounded", "Missing", "All"], ["A", 1, 2, 3, 7]],
        "Rules": [
            RULES,
            ["Losses", "All = Killed + Woundd + Missing"],
            ["Losses", "All = Killed +"],
            ["Lossez", "ignore sum"],
            ["Losses", "ignore per_dy"],
            ["Losses", "All = Killed + Wounded + Missing", "lots"],
            ["Losses", "All = Killed + Wounded + Missing", None, "fatal"],
            ["Losses", "All = Killed Wounded"],
            ["Losses", "All = Killed + Wounded + Missing"],  # the good one still runs
        ],
    })
    report = check_workbook(path)
    errors = {f.cell: f.message for f in by_rule(report, "rule_error")}
    assert all(f.sheet == "Rules" and f.severity == "error" for f in by_rule(report, "rule_error"))
    assert errors["B2"] == (
        "Rule on row 2 of Rules (All = Killed + Woundd + Missing): no column 'Woundd' in Losses!A1:E2; did you mean 'Wounded'?"
    )
    assert "row 3 of Rules" in errors["B3"] and "after '+' at the end" in errors["B3"]
    assert "no sheet or table 'Lossez'" in errors["B4"] and "did you mean 'Losses'?" in errors["B4"]
    assert "no check called 'per_dy'; did you mean 'per_day'?" in errors["B5"]
    assert "tolerance 'lots'" in errors["B6"]
    assert "severity must be error or warning" in errors["B7"]
    assert "an operator is missing between 'Killed' and 'Wounded'?" in errors["B8"]
    assert ("Losses", "E2", "sum", "error") in flagged(report)
    assert report.errors == 8


def test_a_rule_typed_as_a_formula_is_explained(tmp_path):
    import xlsxwriter

    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("S")
    for r, row in enumerate([["Unit", "Killed", "Wounded", "All"], ["A", 1, 2, 3]]):
        ws.write_row(r, 0, row)
    rules = wb.add_worksheet("Rules")
    rules.write_row(0, 0, RULES)
    rules.write_formula(1, 1, "=Killed+Wounded", None, "#NAME?")
    wb.close()
    (f,) = by_rule(check_workbook(path), "rule_error")
    assert f.cell == "B2" and "typed as a formula" in f.message


def test_exit_status_counts_rule_errors(write_book):
    path = write_book({"S": [["Unit", "Killed", "Wounded", "All"], ["A", 1, 2, 3]], "Rules": [RULES, ["S", "All = Killed + Woundd"]]})
    result = run("check", str(path))
    assert result.returncode == 1
    assert "did you mean 'Wounded'?" in result.stdout and "rule_error" in result.stdout


# ---------------------------------------------------------------- tallycheck.toml, pyproject.toml, --rules


def _book(folder: Path, name: str = "book.xlsx", total: int = 31) -> Path:
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "Losses"
    for row in [["Unit", "Killed", "Wounded", "All"], ["A", 10, 20, total]]:
        ws.append(row)
    path = folder / name
    wb.save(path)
    return path


def test_tallycheck_toml_beside_a_folder_applies_to_every_workbook_below(tmp_path):
    (tmp_path / "tallycheck.toml").write_text(
        '# batch rules\n\n[[rules]]\nwhere = "Losses"\nrule = "All = Killed + Wounded"\ncomment = "components"\n\n'
        '[[rules]]\nrule = "All = Killed + Wounded"\nworkbooks = "other-*.xlsx"\ntolerance = "5%"\n'
    )
    a = _book(tmp_path / "2024", "a.xlsx")
    other = _book(tmp_path / "2025", "other-b.xlsx")
    assert flagged(check_workbook(a)) == {("Losses", "D2", "sum", "error")}
    (f,) = check_workbook(a).findings
    assert f.message.endswith("(declared in tallycheck.toml:3)")
    assert flagged(check_workbook(other)) == {("Losses", "D2", "sum", "error")}  # the first rule: no tolerance
    assert not check_workbook(_book(tmp_path.parent / "elsewhere", "c.xlsx")).findings


def test_pyproject_tool_table_is_found_like_ruff_and_pytest_find_theirs(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.tallycheck]\n\n[[tool.tallycheck.rules]]\nwhere = "Losses"\nrule = "All = Killed + Wounded"\n'
    )
    nested = _book(tmp_path / "deep" / "er")
    assert flagged(check_workbook(nested)) == {("Losses", "D2", "sum", "error")}
    # a nearer tallycheck.toml wins
    (tmp_path / "deep" / "tallycheck.toml").write_text('[[rules]]\nrule = "ignore all"\n')
    assert not check_workbook(nested).findings


def test_rules_fingerprint_follows_the_rules_file_in_force(tmp_path):
    from tallycheck.declared import rules_fingerprint

    book = _book(tmp_path / "books")
    assert rules_fingerprint(book) == ""
    config = tmp_path / "tallycheck.toml"
    config.write_text('[[rules]]\nrule = "ignore sum"\n')
    first = rules_fingerprint(book)
    config.write_text('[[rules]]\nrule = "ignore per_day"\n')
    assert first and rules_fingerprint(book) not in ("", first)


def test_rules_option_and_config_errors_with_line_numbers(tmp_path):
    book = _book(tmp_path / "books")
    rules = tmp_path / "my-rules.toml"
    rules.write_text('[[rules]]\nwhere = "Losses"\nrule = "All = Killed + Wounded"\n\n[[rules]]\nwher = "Losses"\nrule = "All = Killd"\n')
    assert not check_workbook(book).findings
    report = check_workbook(book, rules=rules)
    errors = by_rule(report, "rule_error")
    assert ("Losses", "D2", "sum", "error") in flagged(report)
    assert {(f.sheet, f.cell) for f in errors} == {("my-rules.toml", "line 5")}
    text = " ".join(f.message for f in errors)
    assert "unknown key 'wher'; did you mean 'where'?" in text and "no column 'Killd'" in text and "did you mean 'Killed'?" in text
    result = run("check", "--rules", str(rules), "--format", "json", str(book))
    assert result.returncode == 1
    assert "my-rules.toml:5" in result.stdout
    assert run("check", "--rules", str(tmp_path / "nope.toml"), str(book)).returncode == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("[[rules]\nrule = 1\n")
    (f,) = by_rule(check_workbook(book, rules=broken), "rule_error")
    assert "not valid TOML" in f.message and f.cell == "line 1"


def test_rules_from_a_workbook_given_with_rules(tmp_path, write_book):
    book = _book(tmp_path / "books")
    shared = write_book({"Rules": [RULES, ["Losses", "All = Killed + Wounded"]]}, name="shared-rules.xlsx")
    report = check_workbook(book, rules=shared)
    assert flagged(report) == {("Losses", "D2", "sum", "error")}
    assert report.findings[0].message.endswith("(declared in shared-rules.xlsx:2)")


# ---------------------------------------------------------------- Python models


def test_registered_pandera_model_findings_map_to_cells(write_book):
    import pandera.pandas as pa
    from tallycheck.declared import register_model, unregister

    @register_model(sheet="Losses")
    class LossesModel(pa.DataFrameModel):
        Killed: float = pa.Field(ge=0, nullable=True)
        Wounded: float = pa.Field(ge=0, nullable=True)

        @pa.dataframe_check
        def killed_below_wounded(cls, df):
            return df["Killed"] <= df["Wounded"]

    try:
        path = write_book({
            "Losses": [["Unit", "Killed", "Wounded"], ["A", 10, 20], ["B", -1, 5], ["C", 9, 3]],
            "Other": [["Unit", "Killed", "Wounded"], ["A", -5, 1]],
        })
        report = check_workbook(path)
        models = {(f.sheet, f.cell): f for f in by_rule(report, "model")}
        assert set(models) == {("Losses", "B3"), ("Losses", "B4"), ("Losses", "C4")}
        assert models[("Losses", "B3")].message == "Killed -1 in row 'B' fails >= 0 (model LossesModel)"
        assert models[("Losses", "B4")].cells == ("B4", "C4")
        assert "killed_below_wounded" in models[("Losses", "B4")].message
        from tallycheck.explain import schema_yaml

        assert "# model LossesModel" in schema_yaml([path])
    finally:
        unregister("LossesModel")


# ---------------------------------------------------------------- explain and schema


def test_explain_says_where_every_check_came_from(write_book):
    path = write_book({
        "S": [["Year", "Killed", "Wounded", "Total", "Per day"], ["2023", 10000, 20000, 30000, 82.2], ["Total", 10000, 20000, 30000, None]],
        "Rules": [RULES, ["S", "Killed >= 0"], ["S", "ignore total_row"], ["S", "Total = Killed + Woundd"]],
    })
    result = run("explain", str(path))
    out = result.stdout
    assert result.returncode == 1  # a rule error
    assert "declared rules: 3 rules from Rules" in out and "not checked as data: Rules" in out
    assert "S!A1:E3" in out and "Year (label) | Killed (count)" in out
    assert 'Total = Killed + Wounded' in out and 'inferred from the header "Total"' in out
    assert "Per day = Total / days(Year)" in out
    assert "Killed >= 0" in out and "declared on row 2 of Rules" in out
    assert "ignore total_row" in out and "declared on row 3 of Rules" in out
    assert "Rules!B4" in out and "did you mean 'Wounded'?" in out
    clean = run("explain", str(EXAMPLES / "missing-in-action.xlsx"))
    assert clean.returncode == 0 and "none (no Rules sheet, no tallycheck.toml)" in clean.stdout


def test_schema_yaml_reloads_as_the_same_pandera_schemas(tmp_path):
    import pandera.pandas as pa
    from tallycheck.engine.checks import CHECKS, schema_for

    result = run("schema", str(EXAMPLES / "ua-general-staff-daily.xlsx"))
    assert result.returncode == 0
    docs = [d for d in result.stdout.split("---\n") if d.strip()]
    names = []
    for doc in docs:
        schema = pa.DataFrameSchema.from_yaml(doc)
        assert schema == schema_for(schema.name)
        assert schema.to_yaml() in doc
        names.append(schema.name)
    assert set(names) == {"cumulative", "never_falls"}
    everything = run("schema").stdout
    assert {pa.DataFrameSchema.from_yaml(d).name for d in everything.split("---\n")} == set(CHECKS)
    assert "expression_holds" in everything


def test_where_picks_a_table_by_title_words_or_by_range(write_book):
    path = write_book({"S": [
        ["Prisoners taken, 2024"],
        ["Side", "Taken", "Released", "Held"],
        ["A", 10, 5, 6],
        [],
        [],
        ["Refugees by month"],
        ["Month", "Arrived", "Left", "Held"],
        ["Jan 2024", 100, 40, 61],
    ], "Rules": [RULES, ["prisoners", "Held = Taken - Released"], ["S!A7:D8", "Held = Arrived - Left", None, "warning"]]})
    report = check_workbook(path)
    assert flagged(report) == {("S", "D3", "expression", "error"), ("S", "D8", "expression", "warning")}
    held = next(f for f in report.findings if f.cell == "D3")
    assert held.message == "Held 6 should equal Taken - Released = 10 - 5 = 5 (off by 1) (declared on row 2 of Rules)"
