"""A folder that also holds source code, pictures without tables and unrelated documents: `extract`
and `ingest` record those as `not_a_report`; none becomes a report, none lends an agency."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from harvester.cli import app
from harvester.db.models import Document, Report
from harvester.store import Store

from conftest import SEED_000

ROOT = Path(__file__).resolve().parents[1]
#: Source files that print report titles, agencies and glued table text inside their strings.
CODE = [ROOT / "tests" / "test_perturbations.py", ROOT / "tests" / "test_extract_text.py",
        ROOT / "harvester" / "extract" / "text.py", ROOT / "harvester" / "registry.py",
        ROOT / "tests" / "fixtures" / "derived_ofd" / "make_fixtures.py"]
NOTICE = "关于举办2023年全区职工运动会的通知\n各单位：\n定于2023年5月18日在区体育中心举办职工运动会，请于5月10日前报名。\n区总工会\n2023年4月20日\n"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    for i, src in enumerate(CODE):
        shutil.copy(src, folder / f"code{i}{src.suffix}")
    shutil.copy(ROOT / "tests" / "test_extract_html.py", folder / "snippet.txt")  # code without a code name
    shutil.copy(ROOT / "README.md", folder / "README.md")
    rng = np.random.default_rng(7)  # a photo: smooth colour gradients and sensor noise, no text
    y, x = np.mgrid[0:360, 0:480]
    photo = np.stack([x / 480 * 200, y / 360 * 180, (x + y) / 840 * 150], axis=-1) + rng.normal(0, 12, (360, 480, 3))
    Image.fromarray(np.clip(photo, 0, 255).astype("uint8")).save(folder / "photo.png")
    (folder / "notice.html").write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{NOTICE.splitlines()[0]}"
                                        f"</title></head><body>{''.join(f'<p>{ln}</p>' for ln in NOTICE.splitlines())}"
                                        "</body></html>", encoding="utf-8")
    txt = folder / "notice.txt"
    txt.write_text(NOTICE, encoding="utf-8")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(txt)],
                   check=True, capture_output=True, timeout=240)
    assert (folder / "notice.pdf").exists()
    shutil.copy(SEED_000, folder / "report.txt")
    return folder


def test_extract_records_everything_but_the_report_as_not_a_report(mixed: Path):
    paths = sorted(str(p) for p in mixed.iterdir())
    proc = subprocess.run([sys.executable, "-m", "harvester", "extract", *paths, "--json"],
                          capture_output=True, text=True, timeout=600)
    lines = {Path(d["source"]).name: d for d in map(json.loads, proc.stdout.splitlines())}
    assert set(lines) == {Path(p).name for p in paths}
    report = lines.pop("report.txt")
    assert report["error"] is None and report["agency"] == "临淄区人民政府办公室"
    for name, line in lines.items():
        assert line["error"] is not None and line["error"]["kind"] == "not_a_report", (name, line["error"])
        assert line["agency"] is None and line["template"] is None, name
    assert proc.returncode == 1  # inputs failed: said so in the exit code


def test_ingest_of_the_mixed_folder_makes_one_report(mixed: Path, tmp_path: Path):
    db, data = f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path / "data"
    result = CliRunner().invoke(app, ["ingest", str(mixed), "--data-dir", str(data), "--db", db])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    with Store(db, data) as store, store.session() as s:
        docs = s.execute(select(Document.url, Document.error_kind, Document.agency_name)).all()
        reports = s.execute(select(Report)).scalars().all()
    kinds = {Path(url).name: (kind, agency) for url, kind, agency in docs}
    assert kinds.pop("report.txt") == (None, "临淄区人民政府办公室")
    assert all(kind == "not_a_report" and agency is None for kind, agency in kinds.values()), kinds
    assert len(reports) == 1
