"""Reading and presenting run records: the typed record, tables, comparisons, publishing, report, plots."""
