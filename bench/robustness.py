"""Share of golden cells recovered under realistic mutations (harvester/extract/perturb.py).

    .venv/bin/python bench/robustness.py [--detail]

Every golden's source file is parsed, mutated (seeded, deterministic) and written back out as a
real text dump / page / glued text / PDF text layer, then extracted. Per scenario: cells scored,
right, wrong (must be 0), null (allowed only where a check names the row) and the share
recovered, side by side with the unmutated baseline of each output shape and of the original files.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harvester.extract import extract  # noqa: E402
from harvester.extract import perturb  # noqa: E402
from harvester.extract.golden import Score, expected, score, sources, unexplained_nulls  # noqa: E402

FIX = ROOT / "tests" / "fixtures"
GOLDENS = ROOT / "tests" / "goldens"


def layouts() -> dict[str, tuple[str, list[list[str]]]]:
    """golden name -> (source path, rows of its parsed layout)."""
    from harvester.extract import _front_end, _sniff

    manifest = tomllib.loads((GOLDENS / "manifest.toml").read_text(encoding="utf-8"))["file"]
    out = {}
    for golden, path in sources(manifest).items():
        data = (FIX / path).read_bytes()
        out[golden] = (path, perturb.rows_of(_front_end(_sniff.sniff(data, path))(data)))
    return out


def run(scenario: perturb.Scenario, golden: str, path: str, rows, seed: int):
    """(score, unexplained nulls, record) for one golden under one scenario and seed."""
    mutated = perturb.apply(rows, scenario, seed, salt=path)
    record = extract(mutated.render(), f"{path}#{scenario.name}#{seed}")
    want_json = json.loads((GOLDENS / f"{golden}.json").read_text(encoding="utf-8"))
    want = expected(want_json, mutated.override)
    s = score(record.to_json(), want)
    return s, unexplained_nulls(record, want, s), record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detail", action="store_true", help="list every wrong, null and unexplained cell")
    args = ap.parse_args()
    docs = layouts()
    print(f"{'scenario':<22} {'runs':>4} {'cells':>6} {'right':>6} {'wrong':>5} {'null':>5} {'unexpl.':>7} {'recovered':>9}")
    for scenario in perturb.BASELINES + perturb.SCENARIOS:
        total, unexplained, runs = Score(), [], 0
        for golden, (path, rows) in docs.items():
            for seed in scenario.seeds:
                s, bad, _ = run(scenario, golden, path, rows, seed)
                total.add(s)
                unexplained += bad
                runs += 1
                if args.detail:
                    for w in s.wrong:
                        print(f"  WRONG {path} seed {seed}: {w}")
                    for n in bad:
                        print(f"  UNEXPLAINED {path} seed {seed}: {n}")
                    for n in s.null:
                        print(f"  null {path} seed {seed}: {n}")
        print(f"{scenario.name:<22} {runs:>4} {total.cells:>6} {total.right:>6} {len(total.wrong):>5} "
              f"{len(total.null):>5} {len(unexplained):>7} {total.accuracy:>9.2%}")


if __name__ == "__main__":
    main()
