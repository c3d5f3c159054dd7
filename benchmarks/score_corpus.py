"""Table and column F1 of `extract` on the golden corpus, by statement kind.

    python benchmarks/score_corpus.py [fixtures/lineage]

Micro-averaged over (role, dataset) pairs for tables and (target, source) pairs
for columns; a case counts under the kind of its last expected statement.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqllineage_harvester.golden import Score, load, score  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fixtures" / "lineage"
    cases = load(folder)
    by_kind = score(cases)
    total_tables, total_columns, total = Score(), Score(), 0
    print(f"{'kind':<18} {'cases':>5} {'table F1':>9} {'column F1':>10}")
    for kind, (tables, columns, count) in sorted(by_kind.items()):
        print(f"{kind:<18} {count:>5} {tables.f1:>9.1f} {columns.f1:>10.1f}")
        for part, whole in ((tables, total_tables), (columns, total_columns)):
            whole.tp, whole.fp, whole.fn = whole.tp + part.tp, whole.fp + part.fp, whole.fn + part.fn
        total += count
    print(f"{'all':<18} {total:>5} {total_tables.f1:>9.1f} {total_columns.f1:>10.1f}")


if __name__ == "__main__":
    main()
