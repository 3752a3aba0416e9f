"""A throwaway record kind that lives only in the test tree: the proof that a kind is one contract.

Device logs (a model, a table, a filterset, a field map, a demo builder and one registration, in this package
alone) go through list, details, question, export, API ingest and read, retention, trim and the demo data without a
line of authmon changed. The kind is installed only in the process ``tests/test_new_kind.py`` starts (settings
``tests.kindkit.settings``), so the rest of the suite never sees it.
"""
