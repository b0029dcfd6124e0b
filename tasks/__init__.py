"""Built-in cnnbench task plugins, installed as ``cnnbench_tasks``."""
