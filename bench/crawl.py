"""Crawl throughput: pages/min of `harvester crawl` against a loopback replay of N portals × M reports,
side by side with a bare Scrapy spider fetching the same URLs in the same run.

    .venv/bin/python bench/crawl.py [--portals 20] [--reports 100] [--real-pages]

Builds a temporary saved-portal tree (TRS-style columns: `index.html`, `index_N.html` with 20 items
per page and `createPageHTML`, details `./YYYYMM/tYYYYMMDD_N.html`), serves it with the replay
server on 127.0.0.1 and runs, one after the other, each in its own process:

- `harvester crawl --all --registry <tree>` through `--host-map` (politeness off, as for every
  loopback replay: `crawl_settings.LOCAL_REPLAY`), storing into a fresh SQLite database: the whole
  stack, including blocked-page rules, archive, extraction and the database;
- the same with `--set ITEM_PIPELINES={}` (fetching and parsing only);
- a bare `scrapy.Spider` that fetches exactly the URLs the crawl fetched (list pages and report
  pages), with the same concurrency settings and no middlewares of ours.

Detail pages are small report pages by default; `--real-pages` serves a real derived report page
(tests/fixtures/derived/seed001_hanweb_utf8.html, 33 kB with tables) for every report, so storing
includes a full extraction per page. Figures vary with machine load: compare the rows of one run.
"""
from __future__ import annotations

import argparse
import os
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
HARVESTER = Path(sys.executable).with_name("harvester")
PER_PAGE = 20
SMALL = ('<html><head><meta charset="utf-8"><title>{t}</title></head><body><div class="TRS_Editor">'
         '<p>{t}</p><p>根据《中华人民共和国政府信息公开条例》，现公布本年度报告。</p></div></body></html>')


def build_tree(root: Path, portals: int, reports: int, real: bool) -> list[str]:
    """Write the tree and its registry.toml; return the host names."""
    real_page = (REPO / "tests/fixtures/derived/seed001_hanweb_utf8.html").read_bytes() if real else None
    reg, hosts = "", []
    for p in range(portals):
        host = f"www.bench{p:02d}.gov.cn"
        hosts.append(host)
        col = root / f"bench{p:02d}" / host / "zfxxgknb"
        col.mkdir(parents=True)
        pages = -(-reports // PER_PAGE)
        for page in range(pages):
            items = ""
            for r in range(page * PER_PAGE, min(reports, (page + 1) * PER_PAGE)):
                title = f"某县{p:02d}部门{r:03d}2023年政府信息公开工作年度报告"
                href = f"./202401/t20240119_{p:02d}{r:04d}.html"
                items += f'<li><a href="{href}" title="{title}">{title}</a><span>2024-01-19</span></li>\n'
                (col / "202401").mkdir(exist_ok=True)
                (col / "202401" / f"t20240119_{p:02d}{r:04d}.html").write_bytes(
                    real_page or SMALL.format(t=title).encode("utf-8"))
            name = "index.html" if page == 0 else f"index_{page}.html"
            (col / name).write_text(
                f'<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body><ul>\n{items}</ul>'
                f'<script>createPageHTML({pages}, {page}, "index", "html");</script></body></html>', encoding="utf-8")
        reg += (f'\n[[portal]]\nid = "bench{p:02d}"\nname = "bench"\nagency = "某县{p:02d}部门"\nlevel = "county"\n'
                f'cms = "trs"\nstart_urls = ["http://{host}/zfxxgknb/index.html"]\n')
    (root / "registry.toml").write_text(reg, encoding="utf-8")
    return hosts


BARE = '''
import json, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

urls, proxy, settings = json.load(open(sys.argv[1]))

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for u in urls:
            yield scrapy.Request(u, meta={"proxy": proxy}, dont_filter=True)
    def parse(self, response):
        pass

process = CrawlerProcess({**settings, "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False})
crawler = process.create_crawler(Bare)
process.crawl(crawler)
t = time.perf_counter()
process.start()
stats = crawler.stats.get_stats()
print(json.dumps({"seconds": time.perf_counter() - t, "responses": stats.get("response_received_count", 0)}))
'''


def _stat(stderr: str, key: str) -> float:
    lines = [line for line in stderr.splitlines() if f"'{key}'" in line]
    return float(lines[-1].split(":", 1)[1].strip(" ,")) if lines else 0.0


def run_harvester(root: Path, hosts: list[str], address: str, tmp: Path, *extra: str) -> tuple[float, int, float]:
    data = tmp / f"data{len(extra)}"
    cmd = [str(HARVESTER), "crawl", "--all", "--registry", str(root / "registry.toml"), "--data-dir", str(data),
           "--log-level", "INFO", *extra]
    for h in hosts:
        cmd += ["--host-map", f"{h}={address}"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"harvester crawl failed:\n{proc.stderr[-3000:]}")
    return _stat(proc.stderr, "elapsed_time_seconds"), int(_stat(proc.stderr, "response_received_count")), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--portals", type=int, default=20)
    ap.add_argument("--reports", type=int, default=100)
    ap.add_argument("--real-pages", action="store_true")
    args = ap.parse_args()
    from harvester import crawl_settings
    from portal_server import serve

    tmp = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    try:
        root = tmp / "tree"
        hosts = build_tree(root, args.portals, args.reports, args.real_pages)
        with serve(root) as srv:
            full = run_harvester(root, hosts, srv.address, tmp)
            fetch_only = run_harvester(root, hosts, srv.address, tmp, "--set", "ITEM_PIPELINES={}")
            urls = sorted({f"http://{h}{p}" for _m, h, p, s in srv.served() if s == 200 and not p.endswith("robots.txt")})
            settings = {k: getattr(crawl_settings, k) for k in ("CONCURRENT_REQUESTS", "DOWNLOAD_MAXSIZE")}
            settings.update(crawl_settings.LOCAL_REPLAY)
            job = tmp / "bare.json"
            job.write_text(json.dumps([urls, f"http://{srv.address}", settings]))
            script = tmp / "bare.py"
            script.write_text(BARE)
            proc = subprocess.run([sys.executable, str(script), str(job)], capture_output=True, text=True, cwd=tmp)
            if proc.returncode != 0:
                sys.exit(f"bare spider failed:\n{proc.stderr[-3000:]}")
            bare = json.loads(proc.stdout.strip().splitlines()[-1])
        pages = "real report pages (33 kB, tables)" if args.real_pages else "small report pages"
        print(f"loopback replay: {args.portals} portals × {args.reports} reports = {len(urls)} URLs "
              f"(list + report pages), {pages}; politeness off")
        print(f"{'run':<44} {'responses':>9} {'crawl s':>8} {'pages/min':>10} {'process s':>10}")
        for name, (sec, n, total) in (("harvester crawl (store: archive+extract+db)", full),
                                      ("harvester crawl, ITEM_PIPELINES={}", fetch_only),
                                      ("bare scrapy.Spider, same URLs", (bare["seconds"], bare["responses"], None))):
            print(f"{name:<44} {n:>9} {sec:>8.1f} {60 * n / sec:>10.0f} "
                  f"{'' if total is None else f'{total:.1f}':>10}")
        print("crawl s = Scrapy's elapsed_time_seconds (engine open to close; for the bare spider, "
              "process.start()); process s = the whole command incl. start-up, schema check, link on close")
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
