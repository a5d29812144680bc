"""an_deploy.lazy: a deferred module loads on first use, and a missing optional one is one clear error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from an_deploy.bench import report as bench_report
from an_deploy.lazy import LazyModule, MissingDependency, lazy_import
from tests.bench.test_bench_report import _fixed_report


@pytest.fixture
def probe_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "lazy_probe.py").write_text("LOADED = True\nVALUE = 42\n")
    (tmp_path / "lazy_broken.py").write_text("import lazy_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lazy_probe", "lazy_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_the_module_is_imported_on_first_attribute_access_only(probe_path: Path) -> None:
    probe = lazy_import("lazy_probe")
    assert "lazy_probe" not in sys.modules
    assert probe.VALUE == 42
    assert "lazy_probe" in sys.modules


def test_a_missing_module_with_a_hint_is_one_line_naming_what_to_install() -> None:
    missing = lazy_import("no_such_module_for_an_deploy", install_hint="pip install an-deploy[report]")
    with pytest.raises(MissingDependency) as info:
        _ = missing.anything
    assert str(info.value) == "no_such_module_for_an_deploy is not installed: pip install an-deploy[report]"


def test_a_missing_module_without_a_hint_raises_the_usual_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        _ = lazy_import("no_such_module_for_an_deploy").anything


def test_a_dependency_missing_inside_a_present_module_is_not_reported_as_that_module(probe_path: Path) -> None:
    broken = lazy_import("lazy_broken", install_hint="pip install something")
    with pytest.raises(ModuleNotFoundError, match="lazy_dependency_that_is_missing"):
        _ = broken.anything


def test_without_matplotlib_the_report_is_written_without_its_chart(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_report, "matplotlib", LazyModule("no_matplotlib_here", bench_report.REPORT_EXTRA))
    report = _fixed_report()
    paths = bench_report.write_report(report, tmp_path)
    assert set(paths) == {"json", "md"} and not (tmp_path / "latency.png").exists()
    assert any(n.startswith("no chart: matplotlib is not installed") for n in report.notes)
    assert paths["json"].is_file() and paths["md"].is_file()
