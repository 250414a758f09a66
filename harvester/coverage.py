"""Coverage: which agency × year reports were expected, and what became of each.

Expected agency-years come from two places:

* **history**: an agency that published a report is expected every year after, up to the
  newest year in the database (the ``coverage`` SQL view, also exported as coverage.csv);
* **registry**: a portal whose entry lists ``years`` is expected to publish its agency's report
  for each of them. The portal's agency is found by agency identity, as `harvester.link` files
  documents: its ``agency`` resolved with its ``division_code`` (`harvester.agency.resolve`),
  else the one agency with reports in its division; a portal matching no agency still gets its
  rows (``agency_id`` empty). Same-name agencies of different places stay apart.

History counts only agencies that have reports: parent governments created by agency identity
(淄博市人民政府 above 临淄区…) are expected only when a registry portal expects them.

Status of each expected agency-year (codes in the data dictionary): ``found``, ``failed_checks``
(a report with a failed check), ``failed`` (its documents could not be read), ``blocked`` / ``gone``
(no report and the portal is marked so in the database), ``missing``.

`heatmap_png` draws agencies (or regions: division-code prefixes) × years; `html_report` makes one
self-contained HTML page (the PNG inlined as a data URI, the tables).
"""
from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from dataclasses import astuple, dataclass, fields, replace
from datetime import datetime, UTC
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import Connection, text

from harvester.db.views import COVERAGE_STATUSES

if TYPE_CHECKING:
    from harvester.export import Filters
    from harvester.registry import Portal


@dataclass(frozen=True)
class CoverageRow:
    agency_id: int | None
    agency: str
    division_code: str | None
    level: str | None
    year: int
    status: str
    report_id: int | None
    documents: int
    failed_documents: int
    failed_checks: int
    portal_id: str | None  # the registry portal expecting it
    expected_by: str  # history | registry | history+registry


COLUMNS = [f.name for f in fields(CoverageRow)]

#: status -> colour (heatmap and HTML), in COVERAGE_STATUSES order
COLOURS = {"found": "#2e7d32", "failed_checks": "#f9a825", "failed": "#c62828", "blocked": "#6a1b9a",
           "gone": "#424242", "missing": "#e0e0e0"}
assert set(COLOURS) == set(COVERAGE_STATUSES)


def coverage(conn: Connection, portals: Iterable["Portal"] = (), filters: "Filters | None" = None) -> list[CoverageRow]:
    """Expected agency-years with their status, ordered by agency and year."""
    from harvester.export import Filters

    filters = filters or Filters()
    chosen, params = filters.agencies_sql()
    year, yparams = filters.year_sql("cv.year")
    rows: dict[tuple[Any, int], CoverageRow] = {}
    order: dict[Any, str] = {}
    for r in conn.execute(text(f"""
            SELECT cv.agency_id, cv.agency, cv.division_code, cv.level, cv.year, cv.status, cv.report_id,
                   cv.documents, cv.failed_documents, cv.failed_checks, a.normalized_name
            FROM coverage cv JOIN agencies a ON a.id = cv.agency_id
            WHERE cv.agency_id IN ({chosen}) AND {year}"""), {**params, **yparams}):
        rows[(r[0], r[4])] = CoverageRow(*r[:10], portal_id=None, expected_by="history")
        order[r[0]] = r[10]
    for row in _registry_rows(conn, list(portals), filters):
        key = (row.agency_id if row.agency_id is not None else f"portal:{row.portal_id}", row.year)
        if key in rows:
            rows[key] = replace(rows[key], portal_id=row.portal_id, expected_by="history+registry")
        else:
            rows[key] = row
            order.setdefault(key[0], row.agency)
    return sorted(rows.values(), key=lambda r: (order[r.agency_id if r.agency_id is not None
                                                      else f"portal:{r.portal_id}"], r.agency, r.year))


def _portal_agency(p: "Portal", by_key: dict[str, tuple], by_code: dict[str, list[tuple]]) -> tuple:
    """The database agency a registry portal expects reports of, by agency identity: its agency
    name resolved with its division code (`harvester.agency.resolve`, as `link` files documents),
    else the one agency with a report in its division; (None, name, code, level) when none is
    known. Same-name agencies of different places are never merged."""
    from harvester.agency import resolve

    if p.agency:
        try:
            ident = resolve(p.agency, p.division_code, p.agency)
        except ValueError:
            ident = None
        if ident is not None and ident.key in by_key:
            return by_key[ident.key]
        code = p.division_code or (ident.division_code if ident is not None else None)
    else:
        code = p.division_code
    if code and len(by_code.get(code, [])) == 1:
        return by_code[code][0]
    return (None, p.agency, code, p.level)


def _registry_rows(conn: Connection, portals: list["Portal"], filters: "Filters") -> list[CoverageRow]:
    portals = [p for p in portals if p.years]
    if not portals:
        return []
    by_key: dict[str, tuple] = {}
    by_code: dict[str, list[tuple]] = defaultdict(list)
    for i, name, key, code, level, reported in conn.execute(text(
            "SELECT id, name, identity_key, division_code, level, "
            "EXISTS (SELECT 1 FROM reports r WHERE r.agency_id = agencies.id) FROM agencies ORDER BY id")):
        agency = (i, name, code, level)
        if key:
            by_key[key] = agency
        if code and reported:  # parent governments without reports do not stand for their division
            by_code[code].append(agency)
    status = dict(conn.execute(text("SELECT id, status FROM portals WHERE status IN ('blocked', 'gone')")).all())
    reports = {(a, y): (rid, docs, fdocs, fchecks, vdocs) for rid, a, y, docs, fdocs, fchecks, vdocs in conn.execute(
        text("SELECT report_id, agency_id, year, documents, failed_documents, failed_checks, value_documents "
             "FROM report_summary"))}
    failed_docs = Counter((p, y) for p, y in conn.execute(text(
        "SELECT portal_id, year FROM documents WHERE error_kind IS NOT NULL AND portal_id IS NOT NULL")))
    out = []
    for p in portals:
        agency = _portal_agency(p, by_key, by_code)
        if not _wanted(filters, agency, p):
            continue
        for year in sorted(p.years or ()):
            if filters.years and year not in filters.years:
                continue
            rid, docs, fdocs, fchecks, vdocs = reports.get((agency[0], year), (None, 0, 0, 0, None))
            if rid is None:
                state = status.get(p.id) or ("failed" if failed_docs.get((p.id, year)) else "missing")
                fdocs = failed_docs.get((p.id, year), 0)
            elif vdocs is None and fdocs:
                state = "failed"
            else:
                state = "failed_checks" if fchecks else "found"
            out.append(CoverageRow(agency[0], agency[1], agency[2], agency[3], year, state, rid, docs, fdocs,
                                   fchecks, p.id, "registry"))
    return out


def _wanted(filters: "Filters", agency: tuple, portal: "Portal") -> bool:
    """The export filters applied to a registry expectation (level, region code or name, agency)."""
    from harvester.export import region_prefix
    from harvester.agency import normalize_name as normalize_agency

    _id, name, code, level = agency
    name_n = normalize_agency(name) or ""
    if filters.levels and (level or portal.level) not in filters.levels:
        return False
    if filters.regions:
        code = code or portal.division_code or ""
        ok = False
        for region in filters.regions:
            prefix = region_prefix(region)
            if prefix is not None:
                ok |= code.startswith(prefix)
            else:
                ok |= (normalize_agency(region) or region) in name_n + (normalize_agency(portal.agency) or "")
        if not ok:
            return False
    if filters.agencies:
        return any((a.strip().isdigit() and _id == int(a)) or (normalize_agency(a) or a) in name_n
                   for a in filters.agencies)
    return True


def summary(rows: list[CoverageRow]) -> dict[int, Counter]:
    """year -> status counts."""
    out: dict[int, Counter] = defaultdict(Counter)
    for r in rows:
        out[r.year][r.status] += 1
    return dict(sorted(out.items()))


# ------------------------------------------------------------------ heatmap and HTML
def _region(row: CoverageRow) -> str:
    return row.division_code[:4] if row.division_code else "(no code)"


def heatmap_png(rows: list[CoverageRow], by: str = "agency", max_rows: int = 60) -> bytes:
    """A PNG: agencies × years coloured by status, or regions (division-code prefix of the city)
    × years shaded by the share of expected reports found (found or failed_checks)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Serif CJK SC", "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    years = sorted({r.year for r in rows})
    fig_rows: list[str]
    if by == "region":
        expected: dict[tuple[str, int], int] = Counter((_region(r), r.year) for r in rows)
        got: dict[tuple[str, int], int] = Counter((_region(r), r.year) for r in rows
                                                  if r.status in ("found", "failed_checks"))
        fig_rows = sorted({_region(r) for r in rows})[:max_rows]
        grid = [[(got[(g, y)] / expected[(g, y)]) if expected[(g, y)] else float("nan") for y in years]
                for g in fig_rows]
        cmap, vmin, vmax = "Greens", 0.0, 1.0
    else:
        labels: dict[Any, str] = {}
        for r in rows:
            labels.setdefault(r.agency_id if r.agency_id is not None else f"portal:{r.portal_id}", r.agency)
        keys = list(labels)[:max_rows]
        fig_rows = [labels[k] for k in keys]
        state = {(r.agency_id if r.agency_id is not None else f"portal:{r.portal_id}", r.year): r.status
                 for r in rows}
        codes = {s: i for i, s in enumerate(COVERAGE_STATUSES)}
        grid = [[codes[state[(k, y)]] if (k, y) in state else float("nan") for y in years] for k in keys]
        cmap, vmin, vmax = ListedColormap([COLOURS[s] for s in COVERAGE_STATUSES]), -0.5, len(codes) - 0.5
    height = max(2.5, 0.32 * len(fig_rows) + 1.6)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * len(years) + 4.5), height), dpi=100)
    if fig_rows and years:
        image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks(range(len(years)), [str(y) for y in years])
        ax.set_yticks(range(len(fig_rows)), fig_rows, fontsize=8)
        if by == "region":
            fig.colorbar(image, ax=ax, label="share found")
        else:
            from matplotlib.patches import Patch

            ax.legend(handles=[Patch(color=COLOURS[s], label=s) for s in COVERAGE_STATUSES],
                      loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no expected reports", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("报告覆盖 coverage: " + ("regions" if by == "region" else "agencies") + " × years")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def html_report(rows: list[CoverageRow], png: bytes, title: str = "Coverage") -> str:
    """One self-contained HTML page: the heatmap (data URI), counts per year and status, every row."""
    esc = html.escape
    counts = summary(rows)
    head = "".join(f"<th>{esc(s)}</th>" for s in COVERAGE_STATUSES)
    per_year = "".join(f"<tr><td>{y}</td>" + "".join(f"<td>{c.get(s, 0)}</td>" for s in COVERAGE_STATUSES)
                       + f"<td>{sum(c.values())}</td></tr>" for y, c in counts.items())
    body = "".join(
        f'<tr class="{esc(r.status)}">' + "".join(f"<td>{esc('' if v is None else str(v))}</td>" for v in astuple(r))
        + "</tr>" for r in rows)
    style = "".join(f"tr.{s} td:nth-child(6){{background:{c};color:{'#000' if s in ('missing', 'failed_checks') else '#fff'}}}"
                    for s, c in COLOURS.items())
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}th{{background:#f5f5f5}}{style}</style></head>
<body><h1>{esc(title)}</h1>
<p id="generated">Generated {created} by <code>harvester coverage</code>: {len(rows)} expected agency-years.</p>
<img id="heatmap" alt="coverage heatmap" src="data:image/png;base64,{base64.b64encode(png).decode('ascii')}">
<h2>By year</h2><table id="by-year"><thead><tr><th>year</th>{head}<th>expected</th></tr></thead>
<tbody>{per_year}</tbody></table>
<h2>Agency × year</h2><table id="rows"><thead><tr>{''.join(f'<th>{esc(c)}</th>' for c in COLUMNS)}</tr></thead>
<tbody>{body}</tbody></table>
<script>window.addEventListener("load", function () {{
  var img = document.getElementById("heatmap");  /* rendered size, for checks by a headless browser */
  document.body.setAttribute("data-heatmap", img.naturalWidth + "x" + img.naturalHeight);
}});</script></body></html>
"""
