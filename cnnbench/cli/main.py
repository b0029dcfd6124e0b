"""Entry point: parse the verb, run it, turn a UsageError into one line and exit code 2.

Only the chosen verb's module is imported (most import torch), so `cnnbench --version` and
`cnnbench --help` answer at once."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from types import ModuleType

from cnnbench import __version__
from cnnbench.errors import RunFailed, UsageError, one_line

# verb -> its one-line help; the verb's module is cnnbench.cli.<verb>_cmd
VERBS = {
    "list": "list tasks, their models and data sets",
    "summary": "per-layer summary of a model, like Keras' model.summary()",
    "run": "train, evaluate and time models of a task, writing one JSON run record per model",
    "eval": "score a trained checkpoint on any data set its task can load, writing one run record",
    "table": "write only the markdown tables of the run records (see also: publish)",
    "publish": "write results/README.md, results/csv/<task>_<device>.csv and results/report/ from the records",
    "explain": "pictures of what a trained model learned: filters, maximize, saliency, occlusion, dream, style",
    "compare": "compare two run records or folders of records; exit code 1 on a timing regression",
    "migrate": "rewrite run records of an older schema version at the current one, in place",
    "machine": "measure and cache this machine's matmul GFLOP/s and memory bandwidth",
}
RANK_ARGV_ENV = "CNNBENCH_RANK_ARGV"  # set by `run --nproc` for the processes it starts (run/distributed.py)


def verb_module(verb: str) -> ModuleType:
    return importlib.import_module(f"cnnbench.cli.{verb}_cmd")


def build_parser(verbs: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; the arguments of `verbs` only (default: every verb's, which imports them all)."""
    parser = argparse.ArgumentParser(prog="cnnbench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"cnnbench {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for name, help_ in VERBS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if verbs is None or name in verbs:
            module = verb_module(name)
            module.add_arguments(p)
            p.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
        if RANK_ARGV_ENV in os.environ:  # a process started by `run --nproc` gets its command from there
            from cnnbench.run.distributed import rank_argv

            argv = rank_argv() or argv
    argv = list(argv)
    chosen = [a for a in argv if a in VERBS][:1]  # the first word naming a verb (a verb takes no verb names)
    args = build_parser(chosen).parse_args(argv)
    args.command_line = shlex.join(["cnnbench", *argv])
    try:
        return args.handler(args) or 0
    except UsageError as e:
        print(f"cnnbench: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except RunFailed as e:
        print(f"cnnbench: error: {one_line(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cnnbench: interrupted; no record was written for the unfinished run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
