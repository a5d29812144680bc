"""The installed layout: models/ and cli/ install as an_deploy.models and an_deploy.cli, never top-level."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_python_folder_is_an_installed_package():
    setup = _pyproject()["tool"]["setuptools"]
    dirs = setup["package-dir"]
    listed = set(setup["packages"])
    found = set()
    for name, folder in dirs.items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found == listed, f"packages to add to or drop from pyproject.toml: {sorted(found ^ listed)}"


def test_no_generic_top_level_package_is_installed():
    setup = _pyproject()["tool"]["setuptools"]
    assert {p.split(".")[0] for p in setup["packages"]} == {"an_deploy"}


def test_an_deploy_models_is_not_the_top_level_models():
    import an_deploy.cli.main
    import an_deploy.models.registry

    assert Path(an_deploy.models.registry.__file__).parent == REPO / "models"
    assert Path(an_deploy.cli.main.__file__).parent == REPO / "cli"


def test_a_training_checkout_with_its_own_models_package_coexists(tmp_path: Path) -> None:
    """Inside an authors' training checkout (whose top-level package is also called ``models``), both import."""
    import subprocess
    import sys

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("TRAINING_REPO = True\n")
    code = ("import models, an_deploy.checkpoint\n"
            "from an_deploy.models.registry import ARCHS\n"
            "assert models.TRAINING_REPO and 'an_resnet50' in ARCHS\n"
            "print(models.__file__)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "models" / "__init__.py")
