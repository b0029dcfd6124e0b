import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.results.publish import CSV_COLUMNS, collect, render_markdown, write_csvs
from cnnbench.results.record import Record, write_record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rec(make_record: Callable[..., Record]) -> Callable[..., Record]:
    def make(model: str, seed: int, acc: float) -> Record:
        return make_record(
            task="text", model=model, experiment="mr-glove-50", dataset={"name": "mr"},
            options={"embedding": "glove-50"}, seed=seed, profile="full", machine_slug="m",
            started_utc=f"2026-01-01T00:00:0{seed}Z",
            metrics={"params": 100, "flops_fwd": 2000, "accuracy": acc, "train_seconds": 1.0},
        )  # fmt: skip

    return make


def test_publish_writes_readme_csv_and_report(tmp_path: Path, rec) -> None:
    runs = tmp_path / "runs"
    for seed, acc in enumerate([0.7, 0.8, 0.9]):
        write_record(rec("boe", seed, acc), runs / "m" / f"boe{seed}.json")
    write_record(rec("dcnn", 0, 0.75), runs / "m" / "dcnn.json")
    assert main(["publish", "--runs", str(runs), "--out", str(tmp_path / "results")]) == 0
    readme = (tmp_path / "results" / "README.md").read_text()
    assert "80.00 ± 10.00" in readme and "### text" in readme and "m/boe2.json" in readme
    assert "report/index.html" in readme
    with open(tmp_path / "results" / "csv" / "text_cpu.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    boe = next(r for r in rows if r["model"] == "boe")
    assert boe["runs"] == "3" and float(boe["score_mean"]) == pytest.approx(0.8)
    assert float(boe["score_std"]) == pytest.approx(0.1) and boe["commits"] == "abcdef1234"
    assert (tmp_path / "results" / "report" / "index.html").exists()
    documented = readme.split("## CSV columns", 1)[1]
    assert all(f"- **{column}**:" in documented for column in CSV_COLUMNS)


def test_bad_records_stop_before_anything_is_written(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    runs = tmp_path / "runs"
    write_record(rec("boe", 0, 0.7), runs / "ok.json")
    (runs / "broken.json").write_text("{not json")
    out = tmp_path / "results"
    assert main(["publish", "--runs", str(runs), "--out", str(out)]) == 2
    assert "broken.json: not a readable JSON run record" in capsys.readouterr().err
    assert not out.exists()
    (runs / "broken.json").write_text(json.dumps({"schema_version": 7}))
    assert main(["publish", "--runs", str(runs), "--out", str(out)]) == 2
    assert "unsupported schema_version 7" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["publish", "--runs", str(empty), "--out", str(out)]) == 2
    assert "no run records" in capsys.readouterr().err


def test_the_committed_records_publish_the_committed_tables(tmp_path: Path) -> None:
    """results/README.md and results/csv are what the records under results/runs (migrated on reading when of
    an older schema) publish: regenerated here, they equal the committed files byte for byte."""
    runs = ROOT / "results" / "runs"
    pictures = sorted(f"explain/{p.name}" for p in (ROOT / "results" / "explain").glob("*.png"))
    sections = collect(runs)
    readme = render_markdown(sections, runs, "report/index.html", pictures)
    assert readme == (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    written = write_csvs(sections, tmp_path)
    committed = sorted((ROOT / "results" / "csv").glob("*.csv"))
    assert [p.name for p in written] == [p.name for p in committed]
    for new, old in zip(written, committed, strict=True):
        assert new.read_bytes() == old.read_bytes(), new.name
