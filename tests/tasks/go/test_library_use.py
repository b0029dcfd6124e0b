"""The Go loader from a plain script: its worker processes are fresh interpreters running an importable module,
so a script without an `if __name__ == "__main__"` guard loads in parallel instead of respawning itself forever
(multiprocessing's spawn re-ran the script in every child); an interrupt stops the workers and leaves no
temporary file."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
from cnnbench.registry import get_task
from cnnbench.spec import DataRequest

print("loading", flush=True)
splits = get_task("go").load(DataRequest("sgf", Path(sys.argv[1]), Path(sys.argv[2]), (0,), profile=sys.argv[3],
                                         progress=False))
print("positions", len(splits.train), len(splits.test), flush=True)
"""


def _script(tmp_path: Path) -> Path:
    path = tmp_path / "plain_script.py"  # no main guard
    path.write_text(SCRIPT)
    return path


def _workers_with(mark: str) -> list[int]:
    """Processes whose environment carries the mark: the script's extraction workers (and the script)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_a_script_without_a_main_guard_loads_go_games(sgf_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = subprocess.run([sys.executable, str(_script(tmp_path)), str(sgf_dir), str(cache), "quick"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("loading") == 1  # the script ran once: no child re-ran it
    counts = [int(n) for n in done.stdout.split("positions ")[1].split()]
    assert counts[0] > 0 and counts[1] > 0
    assert len(list((cache / "go").glob("positions-*.npy"))) == 1 and not list((cache / "go").glob(".*"))


def test_an_interrupt_stops_the_workers_and_leaves_no_temporary_file(write_games, tmp_path: Path) -> None:
    games = write_games(tmp_path / "many", range(400))  # extraction takes long enough to be interrupted
    cache, mark = tmp_path / "cache", f"CNNBENCH_TEST_MARK={uuid.uuid4().hex}"
    env = dict(os.environ, CNNBENCH_TEST_MARK=mark.split("=")[1])
    proc = subprocess.Popen([sys.executable, str(_script(tmp_path)), str(games), str(cache), "full"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(_workers_with(mark)) < 2 and time.monotonic() < deadline:  # the script and a worker
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            time.sleep(0.1)
        assert len(_workers_with(mark)) >= 2, "no worker process started"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    deadline = time.monotonic() + 10
    while _workers_with(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _workers_with(mark) == []
    assert not list((cache / "go").glob("*")), sorted(p.name for p in (cache / "go").iterdir())
