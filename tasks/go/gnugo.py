"""Self-play game records from GNU Go over GTP: one subprocess per game with its own --seed, cached as SGF.

GNU Go plays about 7 moves/s per process at level 1 on this CPU, so games are generated once, in
parallel, and kept in the cache; a game file appears only when its game is complete (atomic rename).
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from cnnbench.data.cache import remove_stale_temporaries
from cnnbench.errors import UsageError
from cnnbench.io import atomic_write_text

LEVEL = 1  # GNU Go's strength 0-10; 1 keeps generation at a few moves per second
MAX_MOVES = 400  # a game longer than this is cut (SGF records the moves played)
KOMI = 7.5
COLS = "abcdefghjklmnopqrst"  # GTP columns skip I
SGF_COLS = "abcdefghijklmnopqrs"


def find_gnugo() -> str:
    path = shutil.which("gnugo") or ("/usr/games/gnugo" if Path("/usr/games/gnugo").exists() else None)
    if path is None:
        raise UsageError(
            "gnugo-selfplay needs the GNU Go binary (`gnugo`), which is not installed; "
            "on Debian: apt-get install gnugo (or use --data sgf=PATH with game records)"
        )
    return path


def gtp_to_sgf(vertex: str) -> str:
    """'D4' -> 'dp' (SGF counts rows from the top); 'PASS' -> '' (a pass)."""
    v = vertex.strip().lower()
    if v == "pass":
        return ""
    col, row = COLS.index(v[0]), int(v[1:])
    return SGF_COLS[col] + SGF_COLS[19 - row]


class GTP:
    """A GNU Go process spoken to in GTP; stopped with `quit` (killed if it does not exit)."""

    def __init__(self, binary: str, seed: int) -> None:
        args = [binary, "--mode", "gtp", "--level", str(LEVEL), "--seed", str(seed)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if line == "":
                raise UsageError(f"gnugo exited during {command!r}")
            if line.strip() == "" and lines:
                break
            if line.strip():
                lines.append(line.strip())
        reply = " ".join(lines)
        if reply.startswith("?"):
            raise UsageError(f"gnugo refused {command!r}: {reply}")
        return reply.lstrip("= ").strip()

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(timeout=5)
        except (UsageError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def play_game(binary: str, seed: int, max_moves: int = MAX_MOVES) -> str:
    """One self-play game as an SGF string: until two passes in a row, a resignation or max_moves."""
    gtp = GTP(binary, seed)
    moves: list[str] = []
    result = ""
    try:
        gtp.send("boardsize 19")
        gtp.send("clear_board")
        gtp.send(f"komi {KOMI}")
        passes = 0
        for number in range(max_moves):
            colour = "B" if number % 2 == 0 else "W"
            vertex = gtp.send(f"genmove {'black' if colour == 'B' else 'white'}")
            if vertex.lower() == "resign":
                result = f"RE[{'W' if colour == 'B' else 'B'}+R]"
                break
            moves.append(f";{colour}[{gtp_to_sgf(vertex)}]")
            passes = passes + 1 if vertex.lower() == "pass" else 0
            if passes == 2:
                break
    finally:
        gtp.close()
    header = f"(;GM[1]FF[4]SZ[19]KM[{KOMI}]PB[GNU Go level {LEVEL}]PW[GNU Go level {LEVEL}]GN[seed {seed}]{result}"
    return header + "".join(moves) + ")\n"


def generate(folder: Path, games: int, workers: int, progress: bool = True, max_moves: int = MAX_MOVES) -> Path:
    """Make sure folder holds games game-<seed>.sgf for seeds 0..games-1 (missing ones are played now);
    the temporary files of a killed earlier run are removed."""
    remove_stale_temporaries(folder)
    missing = [s for s in range(games) if not (folder / f"game-{s:05d}.sgf").exists()]
    if missing:
        binary = find_gnugo()
        folder.mkdir(parents=True, exist_ok=True)

        def one(seed: int) -> None:
            atomic_write_text(folder / f"game-{seed:05d}.sgf", play_game(binary, seed, max_moves))

        bar = tqdm(total=len(missing), desc="gnugo self-play", unit="game", disable=not progress)
        with ThreadPoolExecutor(max_workers=workers) as pool:  # threads wait on the gnugo processes
            for _ in pool.map(one, missing):
                bar.update(1)
        bar.close()
    return folder
