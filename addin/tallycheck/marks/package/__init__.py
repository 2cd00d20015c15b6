"""The .xlsx/.xlsm side of the marks: one module per package part, assembled by PackageTarget."""
