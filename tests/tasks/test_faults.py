"""Runs killed on purpose (Ctrl-C and SIGKILL) in each phase that writes something: speech synthesis and its
corpus going into the cache, Go feature extraction in worker processes, training, and the writing of the record
and of the checkpoint. After each kill nothing partial is left (no half-written record, checkpoint or cache
entry, no worker process, after Ctrl-C no temporary file and one line on stderr, no traceback); the next run of
the same command removes what a SIGKILL left and gets further, and the last one finishes with a complete result.

Each task's command is run as a chain: every run is the rerun of the one killed before it and is itself killed in
a later phase, so each kill is followed by a rerun at the price of one process. The kill lands where intended
without hooks in the product: each run is a process started by ZYGOTE, which patches the function of the phase to
signal its own process group (Ctrl-C: the terminal signals the whole group) or to SIGKILL its own process, and
notes where it fired."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cnnbench.data.cache import CacheEntry
from cnnbench.io import TEMP_PREFIX
from cnnbench.results.record import read_record
from cnnbench.run import checkpoint

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds worker processes in /proc")

MARK_ENV = "CNNBENCH_FAULT_TEST_MARK"  # inherited by the run's worker processes: how they are found
INTERRUPTED = "cnnbench: interrupted; no record was written for the unfinished run\n"

# Imports the command line and the tasks once, then runs each command in a child forked from it: torch's import is
# four of the five CPU seconds a tiny run costs, and the chains below run the commands 14 times. A child is a new
# process (own pid and process group, its own start time for what counts as a stale temporary file) that runs the
# entry point's main() with the command's arguments; its exit status (or the signal that killed it) is reported.
ZYGOTE = r"""
import contextlib, json, os, signal, sys, time, traceback
from pathlib import Path

import torch._dynamo  # what a run imports: the flop counter's, the table's and the tasks' modules
import cnnbench.io
from cnnbench.cli import main as cli
from cnnbench.measure import counting
from cnnbench.results import table
from cnnbench.run import runner, train
from cnnbench_tasks.go import extract_worker, positions, task as go_task
from cnnbench_tasks.speech import data, generate, task as speech_task

cli.build_parser(["run"])
spec, fired = {}, []


def ignores_ctrl_c(proc):
    ignored = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("SigIgn:"))
    return bool(int(ignored.split()[1], 16) & 1 << (signal.SIGINT - 1))


def working_workers():
    # the run's worker processes at work: marked, running a worker module (not a child still forking) and set up
    # (a worker ignores Ctrl-C once it is tied to its caller: cnnbench.data.workers.serve)
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, StopIteration):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv[1:2] == [b"-m"] and argv[2].endswith(b"_worker") and ignores_ctrl_c(proc) and \
                    os.environ["CNNBENCH_FAULT_TEST_MARK"].encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
    return found


def fire(phase):
    if fired or phase != spec["phase"] or spec["signal"] is None:
        return
    fired.append(phase)
    workers = []
    if spec["with_workers"]:  # wait for a worker process to be running: the kill must find one
        deadline = time.monotonic() + 30
        while not (workers := working_workers()) and time.monotonic() < deadline:
            time.sleep(0.01)
    for pid in workers:  # held in the middle of their work: a worker that outlives its caller stays, and is found
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    Path(spec["fired"]).write_text(json.dumps({"phase": phase, "workers": workers}))
    if spec["signal"] == "INT":
        os.killpg(os.getpgrp(), signal.SIGINT)  # Ctrl-C: the terminal signals the whole process group
    else:
        os.kill(os.getpid(), signal.SIGKILL)


# tiny data: a small corpus in chunks of a few clips (several worker processes), Go games two to a worker
data.QUICK_CLIPS, generate.CHUNK, positions.CHUNK = 40, 10, 2

decode_chunk = generate.decode_chunk
generate.decode_chunk = lambda payload: (fire("synthesis"), decode_chunk(payload))[1]
decode_result = extract_worker.decode_result
extract_worker.decode_result = lambda payload: (fire("extraction"), decode_result(payload))[1]
step = train._Loop.step
train._Loop.step = lambda loop, idx: (fire("training") if loop.steps == 1 else None, step(loop, idx))[1]
fsync = os.fsync


def fsync_then_fire(fd):  # a file complete in its temporary file, not yet renamed or linked to its name
    fsync(fd)
    name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
    for phase, part in spec["writes"].items():
        if name.startswith(".cnnbench-tmp.") and part in name:
            fire(phase)


os.fsync = fsync_then_fire

for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        cnnbench.io._STARTED = time.time()
        spec.update(job["spec"])
        for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        try:
            code = cli.main(job["argv"])
        except SystemExit as e:
            code = e.code
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


@dataclass
class Chain:
    """One command, run again and again; folders it writes, and what a finished run leaves there."""

    tmp: Path
    args: list[str]
    cache_entries: dict[str, str]  # cache sub-folder -> glob of an entry's first file
    save: Path | None = None
    mark: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def cache(self) -> Path:
        return self.tmp / "cache"

    @property
    def out(self) -> Path:
        return self.tmp / "runs"

    def __post_init__(self) -> None:
        env = dict(os.environ, CNNBENCH_DATA=str(self.cache), **{MARK_ENV: self.mark})
        self.zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE], env=env, cwd=self.tmp, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)  # fmt: skip

    def close(self) -> None:
        """End the zygote, and any process of the runs that a failed test left (stopped workers included)."""
        for pid in _marked(self.mark):
            if pid != self.zygote.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.zygote.stdin.close()
        try:
            self.zygote.wait(timeout=60)
        finally:
            self.zygote.kill()

    def run(self, phase: str | None = None, sig: str | None = None, with_workers: bool = False) -> tuple[int, str]:
        fired = self.tmp / "fired.json"
        fired.unlink(missing_ok=True)
        writes = {"corpus-write": "synth-", "record-write": ".json"}
        if self.save is not None:
            writes["checkpoint-write"] = self.save.name
        spec = {"phase": phase, "signal": sig, "fired": str(fired), "with_workers": with_workers, "writes": writes}
        argv = [*self.args, "--out", str(self.out), *(["--save", str(self.save)] if self.save else [])]
        job = {"spec": spec, "argv": argv, "stdout": str(self.tmp / "stdout"), "stderr": str(self.tmp / "stderr")}
        self.zygote.stdin.write(json.dumps(job) + "\n")
        self.zygote.stdin.flush()
        ready, _, _ = select.select([self.zygote.stdout], [], [], 300)
        assert ready, f"the run did not end in 300 s (killed in {phase}?)"
        answer = self.zygote.stdout.readline()
        assert answer, "the process that starts the runs died"
        code, err = int(answer), (self.tmp / "stderr").read_text()
        self.check_no_process_left()
        if phase is not None:
            assert fired.is_file(), f"the run did not reach {phase}: {code}\n{err[-3000:]}"
            where = json.loads(fired.read_text())
            assert where["phase"] == phase
            if with_workers:
                assert where["workers"], f"no worker process was running at the {phase} kill"
            assert code == (130 if sig == "INT" else -signal.SIGKILL), err[-3000:]
        return code, err

    def check_no_process_left(self) -> None:
        deadline = time.monotonic() + 10
        while (left := [p for p in _marked(self.mark) if p != self.zygote.pid]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, f"processes of the run left behind: {left}"

    def folders(self) -> list[Path]:
        folders = [self.cache / sub for sub in self.cache_entries] + [p for p in self.out.glob("*") if p.is_dir()]
        return folders + ([self.save.parent] if self.save is not None else [])

    def temporaries(self) -> list[Path]:
        return [p for folder in self.folders() if folder.is_dir() for p in folder.iterdir()
                if p.name.startswith(TEMP_PREFIX)]  # fmt: skip

    def check_nothing_partial(self, records: int, temporaries_allowed: bool = False) -> list[Path]:
        """No temporary file (unless a SIGKILL just left them), every cache entry sealed and sound, every record
        readable and `records` of them, a checkpoint only with its record. Returns the records."""
        if not temporaries_allowed:
            assert self.temporaries() == []
        for sub, pattern in self.cache_entries.items():
            files = [p for p in (self.cache / sub).glob("*") if not p.name.startswith(TEMP_PREFIX)]
            entries = [CacheEntry(_entry_files(p)) for p in (self.cache / sub).glob(pattern)]
            assert sorted(files) == sorted(f for e in entries for f in (*e.files, e.marker)), "an unsealed entry"
            assert all(e.problem() is None for e in entries)
        paths = sorted(self.out.rglob("*.json"))
        assert len(paths) == records, [p.name for p in paths]
        for path in paths:
            read_record(path)  # complete: a partial record fails here
        if self.save is not None:
            assert self.save.exists() == bool(records)
            if records:
                assert checkpoint.load(self.save).trained.record == str(paths[-1])
        return paths

    def interrupt(self, phase: str, with_workers: bool = False) -> None:
        """Ctrl-C in `phase`: one line on stderr, nothing partial, no temporary file."""
        _, err = self.run(phase, "INT", with_workers)
        assert err.endswith(INTERRUPTED) and "Traceback" not in err, err[-3000:]
        assert err.count("\n") == 1, err[-3000:]
        self.check_nothing_partial(records=0)

    def kill(self, phase: str, with_workers: bool = False) -> None:
        """SIGKILL in `phase`: nothing partial but temporary files, which the next run removes."""
        self.run(phase, "KILL", with_workers)
        self.check_nothing_partial(records=0, temporaries_allowed=True)

    def finish(self) -> list[Path]:
        code, err = self.run()
        assert code == 0, err[-3000:]
        return self.check_nothing_partial(records=1)


def _entry_files(first: Path) -> tuple[Path, ...]:
    """A cache entry's files from its first: Go positions are rows (.npy) and moves (.npz)."""
    return (first, first.with_suffix(".npz")) if first.suffix == ".npy" else (first,)


def _marked(mark: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f"{MARK_ENV}={mark}".encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def chain_of(tmp_path: Path) -> Iterator[Callable[..., Chain]]:
    """chain_of(args, cache_entries, save=None): a Chain in tmp_path, closed after the test."""
    made: list[Chain] = []

    def make(*args, **kwargs) -> Chain:
        made.append(Chain(tmp_path, *args, **kwargs))
        return made[-1]

    yield make
    for chain in made:
        chain.close()


# the quickest runs: the quick profile, a training budget of a few steps, no kernel timings, one thread
QUICK = ["--quick", "--device", "cpu", "--no-timing", "--no-progress", "--threads", "1"]


def test_speech_generation_killed_then_rerun(chain_of: Callable[..., Chain]) -> None:
    pytest.importorskip("espeakng_loader", reason="speech synthesis needs espeakng-loader")
    args = ["run", "--task", "speech", "--dataset", "synth-digits", "--model", "dnn", *QUICK, "--epochs", "1"]
    chain = chain_of(args, {"speech": "synth-*.npz"})
    chain.interrupt("synthesis", with_workers=True)  # workers synthesising, no corpus yet
    chain.kill("synthesis", with_workers=True)
    chain.interrupt("corpus-write")  # the corpus in its temporary file in the cache, not yet renamed
    chain.kill("corpus-write")
    assert chain.temporaries(), "the SIGKILL left no temporary file: the rerun's cleaning is not tested"
    chain.finish()


def test_go_run_killed_in_each_phase_then_rerun(tmp_path: Path, write_games, chain_of: Callable[..., Chain]) -> None:
    games = write_games(tmp_path / "sgf", range(12))
    args = ["run", "--task", "go", "--data", f"sgf={games}", "--model", "alphago-policy", *QUICK, "--train-flops",
            "5e8", "--option", "filters=8", "--option", "layers=3", "--option", "features=raw"]  # fmt: skip
    chain = chain_of(args, {"go": "positions-*.npy"}, save=tmp_path / "model.pt")
    workers = (os.cpu_count() or 1) > 1  # one core: the games are replayed in this process
    chain.interrupt("extraction", with_workers=workers)
    chain.kill("extraction", with_workers=workers)
    assert chain.temporaries(), "the SIGKILL left no temporary file: the rerun's cleaning is not tested"
    chain.interrupt("training")  # the rerun: the stale temporary removed, positions extracted and sealed
    chain.kill("training")
    chain.interrupt("record-write")
    chain.kill("record-write")  # the record in its temporary file
    chain.interrupt("checkpoint-write")
    chain.kill("checkpoint-write")
    [record] = chain.finish()
    assert read_record(record).training is not None
