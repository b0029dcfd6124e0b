import csv
import json
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest
from scipy import stats

from cnnbench.cli.main import main
from cnnbench.results.bench import bench_section, read_bench
from cnnbench.results.publish import CSV_COLUMNS, collect, render_markdown, write_csvs
from cnnbench.results.record import Record, write_record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rec(make_record: Callable[..., Record]) -> Callable[..., Record]:
    def make(model: str, seed: int, acc: float, task: str = "text", **overrides) -> Record:
        return make_record(
            task=task, model=model, experiment="mr-glove-50", dataset={"name": "mr"},
            options={"embedding": "glove-50"}, seed=seed, profile="full", machine_slug="m",
            started_utc=f"2026-01-01T00:00:0{seed}Z",
            metrics={"params": 100, "flops_fwd": 2000, "accuracy": acc, "train_seconds": 1.0}, **overrides,
        )  # fmt: skip

    return make


def test_publish_writes_readme_csv_and_report(tmp_path: Path, rec) -> None:
    runs = tmp_path / "runs"
    for seed, acc in enumerate([0.7, 0.8, 0.9]):
        write_record(rec("boe", seed, acc), runs / "m" / f"boe{seed}.json")
    write_record(rec("dcnn", 0, 0.75), runs / "m" / "dcnn.json")
    assert main(["publish", "--runs", str(runs), "--out", str(tmp_path / "results")]) == 0
    readme = (tmp_path / "results" / "README.md").read_text()
    assert "| 3 | 80.00 ± 24.84 |" in readme and "### text" in readme and "m/boe2.json" in readme
    assert "## Method" in readme and "Welch's t-test" in readme and "inconclusive at n" in readme
    assert "report/index.html" in readme
    with open(tmp_path / "results" / "csv" / "text_cpu.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    boe = next(r for r in rows if r["model"] == "boe")
    assert boe["runs"] == "3" and float(boe["score_mean"]) == pytest.approx(0.8)
    assert float(boe["score_std"]) == pytest.approx(0.1) and boe["commits"] == "abcdef1234"
    low, high = stats.t.interval(0.95, 2, loc=0.8, scale=stats.sem([0.7, 0.8, 0.9]))
    assert float(boe["score_ci95"]) == pytest.approx((high - low) / 2)
    dcnn = next(r for r in rows if r["model"] == "dcnn")
    assert dcnn["score_ci95"] == "" and dcnn["target_score"] == "" and dcnn["stopped_by"] == ""
    assert (tmp_path / "results" / "report" / "index.html").exists()
    assert not list((tmp_path / "results" / "report" / "img").glob("*curve*"))  # no record has a learning curve
    documented = readme.split("## CSV columns", 1)[1]
    assert all(f"- **{column}**:" in documented for column in CSV_COLUMNS)


def _curve(seed: int, scores: list[float]) -> list[dict]:
    point = {"samples": 1000, "epochs": 0.5, "flops": 6e9, "seconds": 10.0}
    return [{k: v * n for k, v in point.items()} | {"seconds": 10.0 * n + seed, "score": s, "split": "test"}
            for n, s in enumerate(scores, 1)]  # fmt: skip


def test_learning_curves_and_time_to_target(tmp_path: Path, rec) -> None:
    """Records with learning curves get the two curve plots and their time to target in the tables and CSV;
    a task whose records have no curves gets no such plot."""
    runs = tmp_path / "runs"
    for seed, (scores, hit) in enumerate([([0.6, 0.77, 0.8], 2), ([0.65, 0.7, 0.78], 3), ([0.5, 0.6, 0.7], None)]):
        target = {"score": 0.761, "source": "Kim 2014", "reached": hit is not None}
        if hit:
            target |= {"samples": 1000 * hit, "epochs": hit / 2, "flops": 6e9 * hit, "seconds": 10.0 * hit + seed}
        training = {"stopped_by": "samples", "epochs_run": 1.5, "learning_curve": _curve(seed, scores),
                    "time_to_target": [target]}  # fmt: skip
        write_record(rec("boe", seed, scores[-1], training=training), runs / "m" / f"boe{seed}.json")
    write_record(rec("dcnn", 0, 0.75), runs / "m" / "dcnn.json")
    write_record(rec("boe", 0, 0.5, task="speech"), runs / "m" / "speech.json")
    out = tmp_path / "results"
    assert main(["publish", "--runs", str(runs), "--out", str(out)]) == 0
    img = out / "report" / "img"
    assert sorted(p.name for p in img.glob("*curve*")) == ["m_text_curve_vs_samples.svg", "m_text_curve_vs_seconds.svg"]
    svg = (img / "m_text_curve_vs_samples.svg").read_text()
    assert "<svg" in svg and "target 76.1%" in svg
    page = (out / "report" / "index.html").read_text()
    assert "m_text_curve_vs_seconds.svg" in page and "<h2>Method</h2>" in page
    readme = (out / "README.md").read_text()
    assert "| 1.5 ep (samples budget) | 76.1%: 1.2 ep / 26 s (2/3) |" in readme
    with open(out / "csv" / "text_cpu.csv", newline="") as f:
        boe = next(r for r in csv.DictReader(f) if r["model"] == "boe")
    assert boe["stopped_by"] == "samples" and float(boe["target_score"]) == pytest.approx(0.761)
    assert boe["target_reached_runs"] == "2" and float(boe["target_samples_mean"]) == pytest.approx(2500)
    assert float(boe["target_flops_mean"]) == pytest.approx(1.5e10)
    assert float(boe["target_seconds_mean"]) == pytest.approx(statistics.fmean([20.0, 31.0]))


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


def test_the_committed_records_publish_the_committed_tables(tmp_path: Path, committed_runs: Path) -> None:
    """results/README.md and results/csv are what the committed records under results/runs (migrated on reading
    when of an older schema) publish: regenerated here, they equal the committed files byte for byte."""
    runs = committed_runs
    pictures = sorted(f"explain/{p.name}" for p in (ROOT / "results" / "explain").glob("*.png"))
    sections = collect(runs)
    benches = bench_section(read_bench(ROOT / "results" / "benchmarks"), ROOT / "results")
    readme = render_markdown(sections, runs, "report/index.html", pictures, benches)
    assert readme == (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    written = write_csvs(sections, tmp_path)
    committed = sorted((ROOT / "results" / "csv").glob("*.csv"))
    assert [p.name for p in written] == [p.name for p in committed]
    for new, old in zip(written, committed, strict=True):
        assert new.read_bytes() == old.read_bytes(), new.name


def test_the_claims_section_lists_every_judged_claim(tmp_path: Path, rec) -> None:
    runs = tmp_path / "runs"
    training = {"training": {"stopped_by": "epochs"}}
    for seed, rand in enumerate((0.70, 0.715, 0.715)):  # the per-seed differences vary: runs need spread
        write_record(rec("kim-cnn-rand", seed, rand, **training), runs / "m" / f"r{seed}.json")
        write_record(rec("kim-cnn-non-static", seed, 0.75 + 0.01 * seed, **training), runs / "m" / f"n{seed}.json")
    assert main(["publish", "--runs", str(runs), "--out", str(tmp_path / "results")]) == 0
    readme = (tmp_path / "results" / "README.md").read_text()
    claims = readme[readme.index("## Claims"): readme.index("## m")]
    row = next(line for line in claims.splitlines() if "(kim-cnn-non-static) beat random ones" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:2] == ["m", "text"]
    assert cells[3].startswith("kim-cnn-non-static 76.00 ± 2.48 (n=3) vs kim-cnn-rand 71.00 ± 2.15 (n=3); +5.00")
    assert cells[4] == "SUPPORTED" and cells[5] == "equal epochs (12 each); equal training compute"
    assert "Kim 2014" in cells[6]

@pytest.mark.parametrize("verb", ["publish", "table"])
def test_bad_out_is_one_line_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture, rec, verb: str
) -> None:
    runs = tmp_path / "runs"
    write_record(rec("boe", 0, 0.7), runs / "ok.json")
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    # publish writes into a folder, table writes one file: each is given the other kind of path
    out = taken if verb == "publish" else runs
    assert main([verb, "--runs", str(runs), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {out}" in err
    assert taken.read_text() == "keep me" and sorted(p.name for p in runs.iterdir()) == ["ok.json"]


def test_publish_refuses_a_file_where_it_writes_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    runs, out = tmp_path / "runs", tmp_path / "results"
    write_record(rec("boe", 0, 0.7), runs / "ok.json")
    out.mkdir()
    (out / "report").write_text("not a folder")
    assert main(["publish", "--runs", str(runs), "--out", str(out)]) == 2
    assert "results: report inside it exists and is not a folder" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["report"]


def test_null_scores_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    runs = tmp_path / "runs"
    path = write_record(rec("boe", 0, 0.7), runs / "r.json")
    data = json.loads(path.read_text())
    data["metrics"]["accuracy"] = None
    path.write_text(json.dumps(data))
    for verb in (["publish", "--runs", str(runs), "--out", str(tmp_path / "out")], ["compare", str(path), str(path)]):
        assert main(verb) == 2
        assert capsys.readouterr().err.strip().endswith("r.json.metrics.accuracy: expected a number, got null")
