"""Package discovery: setuptools finds every package, so a new subpackage cannot be left out of the wheel.

The task plugins live in tasks/ and install as cnnbench_tasks (package-dir in pyproject.toml)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["cnnbench", "cnnbench.*"])
    + ["cnnbench_tasks"]
    + [f"cnnbench_tasks.{name}" for name in find_packages("tasks")],
)
