"""fetch_wheel against a local package index (pip's own PIP_NO_INDEX / PIP_FIND_LINKS), offline."""

import zipfile
from pathlib import Path

import pytest

from cnnbench.data.cache import sha256_file
from cnnbench.data.wheel import fetch_wheel
from cnnbench.errors import UsageError


def _wheel(folder: Path) -> Path:
    path = folder / "cbfixture-1.0-py3-none-any.whl"
    info = "cbfixture-1.0.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cbfixture/data/x.txt", "payload")
        z.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: cbfixture\nVersion: 1.0\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return _wheel(index)


def test_downloads_verifies_and_reuses(local_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "cache"
    got = fetch_wheel("cbfixture==1.0", sha256_file(local_index), dest)
    assert got.parent == dest and sha256_file(got) == sha256_file(local_index)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))  # a second call must not need pip
    assert fetch_wheel("cbfixture==1.0", sha256_file(local_index), dest) == got


def test_wrong_checksum_is_refused(local_index: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="differs from the expected"):
        fetch_wheel("cbfixture==1.0", "0" * 64, tmp_path / "cache")
    assert not list(tmp_path.rglob("cache/*.whl"))


def test_missing_package_is_a_clear_error(local_index: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="could not fetch cbfixture==2.0 with pip download"):
        fetch_wheel("cbfixture==2.0", "0" * 64, tmp_path / "cache")
