"""cnnbench: measured CNN benchmarks per modality."""

__version__ = "0.1.0"
