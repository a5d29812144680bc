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
