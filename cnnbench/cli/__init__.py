"""The ``cnnbench`` command line: one module per verb."""
