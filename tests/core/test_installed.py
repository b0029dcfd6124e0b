"""cnnbench as a user installs it: a wheel built from the checkout, installed into a fresh virtual
environment outside the checkout (its dependencies from this environment), then `--version`, `list`,
`--help` and one quick run. Editable installs cannot show a package left out of the wheel."""

import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "cnnbench", "tasks")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the fresh environment's bin folder)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:  # a copy: building in the checkout would leave build/ and *.egg-info there
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, src / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    build = subprocess.run([*pip_wheel, "-w", str(work / "dist"), str(src)], capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (work / "dist").glob("cnnbench-*.whl")
    env = work / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    py = env / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    # torch and the other dependencies come from this environment's site folders (installing them would take GBs)
    sites = [sysconfig.get_paths()["purelib"]] + [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (Path(site) / "deps.pth").write_text("\n".join(dict.fromkeys(sites)) + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                              "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    return wheel, env / "bin"


def test_the_wheel_holds_every_package(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    packages = find_packages(str(ROOT), include=["cnnbench", "cnnbench.*"])
    packages += ["cnnbench_tasks"] + [f"cnnbench_tasks.{p}" for p in find_packages(str(ROOT / "tasks"))]
    for package in packages:
        assert package.replace(".", "/") + "/__init__.py" in names, f"{package} is not in the wheel"
    for folder in [*(ROOT / "cnnbench").rglob("*"), *(ROOT / "tasks").rglob("*")]:
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
            assert (folder / "__init__.py").exists(), f"{folder.relative_to(ROOT)} has modules but no __init__.py"


def _cnnbench(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "cnnbench"), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_installed_cnnbench_runs_outside_the_checkout(installed: tuple[Path, Path], mnist_dir: Path,
                                                      tmp_path: Path) -> None:  # fmt: skip
    _, bin_dir = installed
    where = _cnnbench(bin_dir, "run", "--help", cwd=tmp_path)
    assert where.returncode == 0 and "--task" in where.stdout
    version = _cnnbench(bin_dir, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("cnnbench ")
    listing = _cnnbench(bin_dir, "list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr[-2000:]
    for task in ("image", "speech", "text", "go"):
        assert f"{task}  (" in listing.stdout
    code = "import cnnbench, cnnbench.explain; print(cnnbench.__file__)"
    module = subprocess.run([str(bin_dir / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert str(ROOT) not in module.stdout, f"imported from the checkout: {module.stdout}"
    out = tmp_path / "runs"
    args = ["--model", "lecture-cnn", "--dataset", "mnist", "--data-dir", str(mnist_dir), "--quick", "--no-timing"]
    run = _cnnbench(bin_dir, "run", "--task", "image", *args, "--no-progress", "--out", str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(list(out.rglob("*.json"))) == 1


def test_version_and_help_do_not_import_torch(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, bin_dir = installed
    code = ("import sys\nfrom cnnbench.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n")  # fmt: skip
    for args in (["--version"], ["--help"]):
        t0 = time.perf_counter()
        res = subprocess.run([str(bin_dir / "python"), "-c", code, *args], capture_output=True, text=True, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip().endswith("NO-TORCH"), f"{args} imported torch"
        assert time.perf_counter() - t0 < 60  # a bound against hangs, not a timing claim
