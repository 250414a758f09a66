"""The store's overhead on a crawl: a bare Scrapy spider vs the same spider with the harvester's
store pipeline (archive + document rows, pending extraction), in the same run, alternated.

    .venv/bin/python bench/crawl_store.py [--pages 1500] [--rounds 2] [--db URL]

A loopback server serves `--pages` report pages (the real seed report as HTML, each page with
different numbers, so every body is new to the archive) linked in a chain of list pages. Each
crawl runs in its own process (one Twisted reactor per process) with politeness off (it is our
own server) and 16 concurrent requests. The store's database is created (migrated) before its crawl
starts, as a nightly run finds it. Printed: pages/min of each, and the ratio
(target: with the store ≥ 0.8 × bare).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "seeds" / "000_7ffb10b0611b3e96.txt"
PER_LIST = 50

SPIDER = r'''
import json, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

base, mode, db_url, data_dir = sys.argv[1:5]

class Bench(scrapy.Spider):
    name = "bench"
    portal_ids = ["bench"]

    async def start(self):
        yield scrapy.Request(base + "/list/0.html", callback=self.parse_list)

    def parse_list(self, response):
        for href in response.css("a::attr(href)").getall():
            cb = self.parse_list if "/list/" in href else self.parse_page
            yield response.follow(href, callback=cb)

    def parse_page(self, response):
        yield {"url": response.url, "final_url": response.url, "status": response.status,
               "content_type": "text/html", "body": response.body, "portal_id": "bench",
               "parent_url": None, "fetch_error": None}

settings = {"ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
            "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False}
if mode == "store":
    settings.update({"ITEM_PIPELINES": {"harvester.pipelines.store.StorePipeline": 300},
                     "HARVESTER_DB_URL": db_url, "HARVESTER_DATA_DIR": data_dir,
                     "HARVESTER_EXTRACT_ON_CLOSE": False, "HARVESTER_LINK_ON_CLOSE": False})
process = CrawlerProcess(settings)
crawler = process.create_crawler(Bench)
process.crawl(crawler)
t0 = time.monotonic()
process.start()
stats = crawler.stats.get_stats()
took = (stats["finish_time"] - stats["start_time"]).total_seconds()
print(json.dumps({"items": stats.get("item_scraped_count", 0), "seconds": took}))
'''


def make_handler(pages: int, template: str):
    lists = (pages + PER_LIST - 1) // PER_LIST

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            kind, _, name = self.path.strip("/").partition("/")
            n = int(name.split(".")[0]) if name.split(".")[0].isdigit() else -1
            if kind == "list" and 0 <= n < lists:
                links = [f'<a href="/page/{i}.html">{i}</a>' for i in range(n * PER_LIST, min(pages, (n + 1) * PER_LIST))]
                if n + 1 < lists:
                    links.append(f'<a href="/list/{n + 1}.html">next</a>')
                body = ("<html><body>" + "".join(links) + "</body></html>").encode()
            elif kind == "page" and 0 <= n < pages:
                body = template.replace("27", str(27 + n % 50), 1).replace("</body>", f"<p>{n}</p></body>").encode()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler


def crawl(base: str, mode: str, db_url: str, data_dir: str, script: Path) -> tuple[int, float]:
    import json

    proc = subprocess.run([sys.executable, str(script), base, mode, db_url, data_dir],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} crawl failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["items"], out["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--db", help="database URL for the store runs (default: a fresh SQLite file per run)")
    args = ap.parse_args()
    text = SEED.read_text(encoding="utf-8")
    template = "<html><head><meta charset='utf-8'></head><body><pre>" + text + "</pre></body></html>"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.pages, template))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    print(f"{args.pages} pages of {len(template.encode()) // 1024} kB from {base}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-crawl-store-") as tmp:
        script = Path(tmp) / "spider.py"
        script.write_text(SPIDER, encoding="utf-8")
        rates: dict[str, list[float]] = {"bare": [], "store": []}
        for r in range(args.rounds):
            for mode in ("bare", "store") if r % 2 == 0 else ("store", "bare"):
                data = Path(tmp) / f"data-{r}-{mode}"
                db = args.db or f"sqlite:///{data / 'h.sqlite'}"
                if mode == "store":  # a nightly crawl opens an existing database: migrate outside the timing
                    from harvester.store import Store

                    Store(db, data).close()
                items, secs = crawl(base, mode, db, str(data), script)
                rate = items / secs * 60
                rates[mode].append(rate)
                print(f"round {r + 1} {mode:<5} {items} pages in {secs:6.1f} s = {rate:8.0f} pages/min")
    httpd.shutdown()
    bare, store = (sum(v) / len(v) for v in (rates["bare"], rates["store"]))
    print(f"\n{'':<22}{'pages/min':>10}")
    print(f"{'bare Scrapy':<22}{bare:>10.0f}")
    print(f"{'with the store':<22}{store:>10.0f}   = {store / bare:.2f} x bare (target >= 0.8)")


if __name__ == "__main__":
    main()
