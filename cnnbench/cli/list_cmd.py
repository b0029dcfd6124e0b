"""`cnnbench list`: tasks, their models and data sets."""

from __future__ import annotations

import argparse

from cnnbench.registry import MODEL_GROUP, default_registry, registered_models


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", action="append", help="only this task (repeatable)")


def main(args: argparse.Namespace) -> int:
    reg = default_registry()
    names = args.task or reg.names()
    for name in names:
        task = reg.get(name)
        print(f"{task.name}  ({task.modality}; primary metric: {task.primary_metric})")
        width = max(len(n) for n in [*task.models, *task.datasets, *task.options])
        print("  models (input shape of one sample):")
        for m in task.models.values():
            default = " [default]" if m.name in task.default_models else ""
            default += f" [channels_last on {', '.join(m.channels_last_on)}]" if m.channels_last_on else ""
            shape = "x".join(map(str, m.input_shape))
            print(f"    {m.name:<{width}} {shape:<10} {m.description}{default}")
        for name, reference in registered_models(task.name).items():
            print(f"    {name:<{width}} {'':<10} {reference} (registered in {MODEL_GROUP})")
        print("  data sets:")
        for d in task.datasets.values():
            flags = (("needs --data-dir", d.needs_dir), ("split follows --seed", d.split_follows_seed))
            marks = [m for m, on in flags if on]
            print(f"    {d.name:<{width}} {d.description}{''.join(f' ({m})' for m in marks)}")
        if task.options:
            print("  options (--option KEY=VALUE):")
            for o in task.options.values():
                print(f"    {o.name:<{width}} {o.description} (default: {o.default or 'none'})")
        for e in task.experiments():
            if e is task.experiments()[0]:
                print("  experiments (run by default; pick with --experiment):")
            print(f"    {e.name:<{width}} {e.description}")
        print(f"  profiles: {', '.join(task.profiles)}")
    print("\nAny task also takes --model package.module:function, a factory of your own: function(ctx) -> nn.Module, "
          "ctx a cnnbench.spec.BuildContext (README: Your own model)")
    return 0
