"""Entry point: parse the verb, run it, turn a UsageError into one line and exit code 2."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from cnnbench import __version__
from cnnbench.cli import compare_cmd, explain_cmd, list_cmd, machine_cmd, publish_cmd, run_cmd, summary_cmd, table_cmd
from cnnbench.distributed import rank_argv
from cnnbench.errors import RunFailed, UsageError

VERBS = {
    "list": list_cmd,
    "summary": summary_cmd,
    "run": run_cmd,
    "table": table_cmd,
    "publish": publish_cmd,
    "explain": explain_cmd,
    "compare": compare_cmd,
    "machine": machine_cmd,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cnnbench {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for name, module in VERBS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = rank_argv() or sys.argv[1:]  # a process started by `run --nproc` gets its command from there
    argv = list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["cnnbench", *argv])
    try:
        return args.handler(args) or 0
    except UsageError as e:
        print(f"cnnbench: error: {e}", file=sys.stderr)
        return 2
    except RunFailed as e:
        print(f"cnnbench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cnnbench: interrupted; no record was written for the unfinished run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
