"""The package list in pyproject.toml is explicit (spiders/ and pipelines/ are mapped into
`harvester.*`), so a new sub-package folder must be listed there or it silently ships without it."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> tuple[list[str], dict[str, str]]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return cfg["packages"], cfg.get("package-dir", {})


def test_every_package_folder_is_listed_in_pyproject():
    packages, mapping = _declared()
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "harvester").rglob("__init__.py")}
    for name, folder in mapping.items():
        found |= {name + "".join("." + part for part in p.parent.relative_to(ROOT / folder).parts)
                  for p in (ROOT / folder).rglob("__init__.py")}
    assert sorted(found - set(packages)) == []


def test_spiders_and_pipelines_install_inside_the_package():
    _, mapping = _declared()
    assert mapping == {"harvester.spiders": "spiders", "harvester.pipelines": "pipelines"}
    import harvester.pipelines.store
    import harvester.spiders.portal

    assert Path(harvester.spiders.portal.__file__).resolve().parent == ROOT / "spiders"
    assert Path(harvester.pipelines.store.__file__).resolve().parent == ROOT / "pipelines"
