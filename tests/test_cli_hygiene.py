"""Command-line hygiene: --version, one-line errors with the documented exit codes (0 ok, 1 failed,
2 usage), read-only commands that refuse to create an empty database, tables that never cut a cell.
Run as real subprocesses (the installed `harvester` script), as a scheduler would."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HARVESTER = Path(sys.executable).with_name("harvester")
SEED = Path(__file__).parent / "fixtures" / "seeds" / "000_7ffb10b0611b3e96.txt"


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HARVESTER_DB", None)
    full_env.pop("HARVESTER_DATA_DIR", None)
    return subprocess.run([str(HARVESTER), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=full_env)


def one_error_line(proc: subprocess.CompletedProcess, prefix: str = "error: ") -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_version_prints_the_installed_version(tmp_path):
    from importlib.metadata import version

    proc = run("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"harvester {version('govreports-harvester')}"


def test_an_unknown_database_url_scheme_is_a_usage_error(tmp_path):
    proc = run("link", "--db", "nosuchdb://x/y", "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown database URL scheme" in one_error_line(proc)


def test_a_malformed_database_url_is_a_usage_error(tmp_path):
    proc = run("link", "--db", "not a url", "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "malformed database URL" in one_error_line(proc)


def test_an_unreachable_postgres_url_fails_in_one_line_and_postgres_scheme_is_accepted(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run("link", "--db", f"postgres://nobody@127.0.0.1:{port}/x", "--data-dir", str(tmp_path / "d"),
               cwd=tmp_path)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "cannot use the database" in line and str(port) in line  # psycopg tried: the scheme was understood


def test_postgres_urls_mean_postgresql_through_psycopg():
    from harvester.config import normalize_db_url, resolve

    assert normalize_db_url("postgres://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalize_db_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalize_db_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert resolve("d", "postgres://h/db").db_url == "postgresql+psycopg://h/db"


def test_postgres_scheme_reaches_a_real_server(pg_url, tmp_path):
    url = pg_url.replace("postgresql+psycopg://", "postgres://", 1)
    assert url.startswith("postgres://")
    proc = run("db", "upgrade", "--db", url, "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("database at revision")


def test_a_data_directory_under_a_file_fails_in_one_line(tmp_path):
    (tmp_path / "a-file").write_text("x")
    proc = run("ingest", str(SEED), "--data-dir", str(tmp_path / "a-file" / "data"), cwd=tmp_path)
    assert proc.returncode == 1 and "not writable" in one_error_line(proc)


def test_an_unwritable_data_directory_is_refused_before_any_work(tmp_path):
    from harvester.commands.options import CliError, check_writable

    target = Path("/proc/harvester-data")  # not writable even for root
    with pytest.raises(CliError, match="not writable"):
        check_writable(target)
    proc = run("ingest", str(SEED), "--data-dir", str(target), cwd=tmp_path)
    assert proc.returncode == 1 and "not writable" in one_error_line(proc)


@pytest.mark.parametrize("command", [["export", "--out", "out"], ["reports"], ["status"], ["changes"]])
def test_read_only_commands_warn_instead_of_creating_an_empty_database(tmp_path, command):
    data = tmp_path / "empty-data"
    proc = run(*command, "--data-dir", str(data), cwd=tmp_path)
    assert proc.returncode == 1
    line = one_error_line(proc, prefix="warning: ")
    assert "no database at" in line and str(data) in line
    assert not (data / "harvester.sqlite").exists()


def test_ingest_of_a_missing_path_is_a_usage_error(tmp_path):
    proc = run("ingest", str(tmp_path / "nope.pdf"), "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert proc.returncode == 2 and "nope.pdf" in proc.stderr
    assert not (tmp_path / "d" / "harvester.sqlite").exists()


def test_a_bad_option_is_a_usage_error(tmp_path):
    assert run("status", "--no-such-option", cwd=tmp_path).returncode == 2


def test_tables_never_cut_agency_names_on_a_narrow_terminal(tmp_path):
    long_name = "新疆维吾尔自治区伊犁哈萨克自治州察布查尔锡伯自治县人民政府办公室"
    code = ("from harvester.commands.options import emit, Format;"
            f"emit(['report_id', 'agency', 'year'], [[1, {long_name!r}, 2023]], Format.table, title='reports')")
    for env in ({"COLUMNS": "30"}, {"COLUMNS": "30", "TERM": "dumb"}):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **env})
        assert proc.returncode == 0, proc.stderr
        assert long_name in proc.stdout  # whole, on one line
        assert "…" not in proc.stdout


def test_ingested_reports_table_prints_every_agency_name_whole(tmp_path):
    seeds = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))
    data = tmp_path / "d"
    assert run("ingest", *map(str, seeds), "--data-dir", str(data), cwd=tmp_path).returncode == 0
    proc = run("reports", "--data-dir", str(data), cwd=tmp_path, env={"COLUMNS": "40"})
    assert proc.returncode == 0
    for name in ("临淄区人民政府办公室", "临淄区工业和信息化局"):
        assert name in proc.stdout
    assert "…" not in proc.stdout


def test_help_and_readme_point_only_at_files_inside_the_repository():
    import re

    import typer
    from typer.testing import CliRunner

    from harvester.cli import app
    from test_cli_help import all_commands

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    texts = [readme] + [CliRunner().invoke(app, [*path, "--help"]).output for path, _ in all_commands()]
    for text in texts:
        assert "../shared" not in text and "/work/" not in text
    for rel in re.findall(r"\]\(((?:docs|deploy)/[^)#]+)\)", readme) + ["docs/extract-json.md", "docs/report-tables.md"]:
        assert (root / rel).is_file(), rel
    assert typer  # the CLI is built with typer


def test_scrapy_telnet_console_is_off():
    from harvester.commands.crawl import build_settings

    settings = build_settings(db_url="sqlite://", data_dir="/tmp/x", host_map={}, portals=[])
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getdict("EXTENSIONS").get("scrapy.extensions.telnet.TelnetConsole", "absent") is None


def test_a_crawl_opens_no_remote_control_endpoint_and_leaves_no_job_files(tmp_path):
    """Scrapy >= 2.14 starts a code-executing HTTP endpoint by default and writes its token to a job file."""
    from portal_server import REGISTRY, serve

    jobs = tmp_path / "jobs"
    jobs.mkdir()
    with serve() as srv:
        cmd = [str(HARVESTER), "crawl", "yaodu-col1229", "--registry", str(REGISTRY), "--data-dir",
               str(tmp_path / "d"), "--set", f"REMOTE_CONTROL_JOBS_DIR={jobs}"]
        for entry in srv.host_map():
            cmd += ["--host-map", entry]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Remote control" not in proc.stderr and "Telnet console" not in proc.stderr
    assert "spider opened" in proc.stderr.lower()  # the log was there to look at
    assert list(jobs.iterdir()) == []
