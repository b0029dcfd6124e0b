"""Every registered task loads without the packages only its data needs (gensim, sgfmill): a user of
one task, or a GPU machine without them, can still list and time every task."""

import subprocess
import sys

from cnnbench.registry import default_registry

OPTIONAL = ("gensim", "sgfmill")


def test_tasks_load_without_optional_packages() -> None:
    names = sorted(default_registry().names())
    code = (
        "import sys\n"
        + "".join(f"sys.modules[{m!r}] = None\n" for m in OPTIONAL)
        + "from cnnbench.registry import default_registry\n"
        "r = default_registry()\n"
        "for n in sorted(r.names()):\n"
        "    t = r.get(n); t.build(t.default_models[0])\n"
        "print(','.join(sorted(r.names())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ",".join(names)
