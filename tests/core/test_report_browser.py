"""The HTML report in a real browser: headless Chromium driven over the WebDriver protocol (chromedriver).

.ci/run installs the Debian packages chromium and chromium-driver when they are missing; elsewhere the
test is reported as skipped when they are not installed.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.results.record import Record, write_record

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def rec(make_record: Callable[..., Record]) -> Callable[..., Record]:
    def make(task: str, model: str, acc: float, params: int, device: str = "cpu") -> Record:
        stats = lambda ms: {"median_ms": ms, "iqr_ms": 0.01}  # noqa: E731
        return make_record(
            task=task, model=model, device={"type": device}, machine_slug="test-machine",
            metrics={"params": params, "flops_fwd": 1_000_000, "accuracy": acc, "train_seconds": 3.0},
            timing={"forward": {1: stats(1.0), 64: stats(8.0)}, "train_step": {1: stats(3.0), 64: stats(30.0)}},
        )  # fmt: skip

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, method: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"{}")


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromedriver are not installed")
def test_report_renders_every_table_and_image(tmp_path: Path, rec) -> None:
    runs = tmp_path / "runs" / "test-machine"
    for i, (task, model, acc, params) in enumerate(
        [("image", "lecture-cnn", 0.99, 137_660), ("image", "dnn", 0.98, 648_010), ("speech", "freq-cnn", 0.9, 10**5)]
    ):
        write_record(rec(task, model, acc, params), runs / f"r{i}.json")
    write_record(rec("image", "lecture-cnn", 0.99, 137_660, device="cuda"), runs / "gpu.json")
    from PIL import Image

    (tmp_path / "results" / "explain").mkdir(parents=True)
    Image.new("RGB", (40, 30), "red").save(tmp_path / "results" / "explain" / "image-lecture-cnn_saliency.png")
    assert main(["publish", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "results")]) == 0
    page = tmp_path / "results" / "report" / "index.html"

    port = _free_port()
    driver = subprocess.Popen([DRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _call(base, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        session = _call(base, "POST", "/session", caps)["value"]["sessionId"]
        try:
            _call(base, "POST", f"/session/{session}/url", {"url": page.as_uri()})
            script = """
                const imgs = [...document.images];
                return {tables: document.querySelectorAll('table.results').length,
                        rows: document.querySelectorAll('table.results tr').length,
                        images: imgs.length,
                        broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)};
            """
            for _ in range(50):  # images load asynchronously
                got = _call(base, "POST", f"/session/{session}/execute/sync", {"script": script, "args": []})["value"]
                if not got["broken"]:
                    break
                time.sleep(0.1)
            shot = _call(base, "GET", f"/session/{session}/screenshot")["value"]
        finally:
            _call(base, "DELETE", f"/session/{session}")
    finally:
        driver.terminate()
        driver.wait(10)
    assert got["tables"] == 2  # image and speech
    assert got["rows"] == 2 + 3 + 1  # headers + image cpu x2, image cuda, speech
    assert got["images"] >= 8 and got["broken"] == []  # 4 plots for image (CPU vs GPU too), 3 for speech, 1 explain
    png = base64.b64decode(shot)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "report.png").write_bytes(png)  # the screenshot, kept with the test's files
