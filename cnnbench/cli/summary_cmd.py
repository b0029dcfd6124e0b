"""`cnnbench summary`: a per-layer table (output shape, parameters, MACs, connections)."""

from __future__ import annotations

import argparse

from cnnbench.measure.counting import count_flops, count_params, format_summary, layer_summary
from cnnbench.registry import get_task
from cnnbench.run.plan import parse_pairs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True)
    p.add_argument("--model", required=True, help="a model of the task, or a factory as package.module:function")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="a task option (see `cnnbench list`)")


def main(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    spec = task.model_spec(args.model)
    ctx = task.context(args.model, task.resolve_options(parse_pairs(args.option, "--option", "KEY=VALUE")))
    model = task.build(args.model, ctx)
    x = task.example_input(args.model, 1, ctx)
    print(f"{task.name}/{args.model}: {spec.description}")
    print(f"input: {'x'.join(map(str, x.shape[1:]))}")
    print(format_summary(layer_summary(model, x), count_params(model)))
    flops = count_flops(model, x)
    print(f"FLOPs per sample: forward {flops['flops_fwd']:,}, training step {flops['flops_train']:,}")
    return 0
