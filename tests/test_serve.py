"""`harvester serve`: datasette on loopback with metadata from the data dictionary; a clear message
without the extra."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harvester.commands.serve import MISSING, datasette_metadata
from harvester.store import Store

from test_export import ingest_seeds

HARVESTER = Path(sys.executable).with_name("harvester")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_serve_answers_on_loopback_with_the_views_and_their_descriptions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = f"sqlite:///{data / 'harvester.sqlite'}"
    with Store(db, data) as store:
        ingest_seeds(store)
    port = free_port()
    proc = subprocess.Popen([str(HARVESTER), "serve", "--port", str(port), "--data-dir", str(data), "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                get(base + "/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {proc.communicate(timeout=5)}") from None
                time.sleep(0.3)
        rows = json.loads(get(base + "/harvester/report_summary.json?_shape=array&_sort=report_id"))
        assert len(rows) == 5 and {r["agency"] for r in rows} >= {"临淄区人民政府办公室", "临淄区工业和信息化局"}
        cells = json.loads(get(base + "/harvester/report_cells.json?_shape=array&row_key=new_received"
                                      "&column_key=total&_size=max"))
        assert "27" in {c["value_text"] for c in cells}
        page = get(base + "/harvester/report_summary").decode("utf-8")
        assert "One row per report (= reports.csv)." in page  # the dictionary's description of the view
        assert "The year reported on (not the publication year)." in page
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_without_datasette_says_how_to_install_it(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['datasette'] = None; sys.modules['datasette.cli'] = None; "
            "from harvester.cli import app; app(['serve', '--data-dir', sys.argv[1]])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "data")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == MISSING


def test_datasette_metadata_comes_from_the_data_dictionary() -> None:
    from harvester.export import dictionary, resource

    meta = datasette_metadata("harvester")
    tables = meta["databases"]["harvester"]["tables"]
    assert tables["report_summary"]["description"] == dictionary()["views"]["report_summary"]
    assert tables["agencies"]["description"] == resource("agencies")["description"]
    assert tables["report_cells"]["columns"]["row_key"] == next(
        f["description"] for f in resource("cells")["fields"] if f["name"] == "row")
    assert tables["agencies"]["label_column"] == "name"
