"""Extraction speed on a realistic mix of ETL statements (a benchmark, not a test).

Reports statements/second for: a bare sqlglot parse, parse + qualify (the floor
any column-level tool pays), our table-level and column-level extraction with
and without a catalog, and peak memory on one large statement.

    python benchmarks/bench_extract.py                 # with whatever sqlglot is installed
    python benchmarks/bench_extract.py --compare-pure  # also in a temp venv with pure-Python sqlglot
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlglot  # noqa: E402
from sqlglot.optimizer.qualify import qualify  # noqa: E402

from sqllineage_harvester import extract  # noqa: E402

TABLES = [f"raw.{n}" for n in ("orders", "payments", "customers", "events", "products", "sessions", "refunds", "invoices")]
COLUMNS = [f"c{i}" for i in range(12)] + ["id", "customer_id", "order_id", "amount", "created_at", "status"]


def dbt_model(rng: random.Random) -> str:
    ctes = []
    for i in range(rng.randint(4, 8)):
        source = rng.choice(TABLES) if i < 2 else f"step{i - 1}"
        other = rng.choice(TABLES)
        cols = rng.sample(COLUMNS, 6)
        if i >= 2:  # a previous step only has the carried columns
            cols[0], cols[1] = "status", "amount"
        ctes.append(
            f"step{i} AS (SELECT a.id, a.customer_id, a.{cols[0]} AS extra_{i}, coalesce(a.{cols[1]}, b.{cols[2]}) AS x_{i}, "
            f"sum(a.amount) OVER (PARTITION BY a.customer_id ORDER BY a.created_at) AS running_{i}, "
            f"CASE WHEN a.status = 'paid' THEN a.amount ELSE 0 END AS paid_{i}, a.amount, a.created_at, a.status "
            f"FROM {source} AS a LEFT JOIN {other} AS b ON a.customer_id = b.customer_id "
            f"WHERE a.created_at > '2024-01-01' AND b.{cols[3]} IS NOT NULL)"
        )
    last = f"step{len(ctes) - 1}"
    return (
        f"CREATE TABLE marts.model_{rng.randint(0, 999)} AS WITH {', '.join(ctes)} "
        f"SELECT customer_id, count(DISTINCT id) AS n, sum(amount) AS total, max(created_at) AS last_at "
        f"FROM {last} GROUP BY customer_id HAVING sum(amount) > 10"
    )


def merge(rng: random.Random) -> str:
    target, source = rng.sample(TABLES, 2)
    cols = rng.sample(COLUMNS, 4)
    return (
        f"MERGE INTO marts.{target.split('.')[1]}_current AS t USING (SELECT id, {', '.join(cols)} FROM {source} "
        f"WHERE status <> 'void') AS s ON t.id = s.id WHEN MATCHED AND s.{cols[0]} IS NOT NULL THEN UPDATE SET "
        + ", ".join(f"{c} = s.{c}" for c in cols)
        + f" WHEN NOT MATCHED THEN INSERT (id, {', '.join(cols)}) VALUES (s.id, {', '.join('s.' + c for c in cols)})"
    )


def adhoc(rng: random.Random) -> str:
    a, b = rng.sample(TABLES, 2)
    cols = rng.sample(COLUMNS, 3)
    return (
        f"SELECT x.{cols[0]}, y.{cols[1]}, count(*) AS n FROM {a} AS x JOIN {b} AS y ON x.id = y.order_id "
        f"WHERE x.{cols[2]} > {rng.randint(1, 100)} GROUP BY 1, 2 ORDER BY n DESC LIMIT 50"
    )


def insert_select(rng: random.Random) -> str:
    a = rng.choice(TABLES)
    cols = rng.sample(COLUMNS, 5)
    return (
        f"INSERT INTO staging.{a.split('.')[1]} ({', '.join(cols)}) SELECT {', '.join('upper(' + c + ')' for c in cols)} "
        f"FROM {a} WHERE created_at >= current_date - 1"
    )


def workload(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    makers = [dbt_model] * 3 + [merge] * 2 + [adhoc] * 3 + [insert_select] * 2
    return [rng.choice(makers)(rng) for _ in range(n)]


def catalog() -> dict:
    return {t: {c: "text" for c in COLUMNS} for t in TABLES}


def rate(label: str, statements: list[str], fn) -> dict:
    start = time.perf_counter()
    for sql in statements:
        fn(sql)
    elapsed = time.perf_counter() - start
    result = {"label": label, "statements": len(statements), "per_second": round(len(statements) / elapsed, 1)}
    print(f"  {label:<38} {result['per_second']:>9.1f} statements/s", file=sys.stderr)
    return result


def peak_memory_mb(sql: str) -> float:
    tracemalloc.start()
    extract(sql, "postgres", timeout=120)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 1e6, 1)


def run(n: int) -> dict:
    compiled = any(p.suffix == ".so" for p in Path(sqlglot.__file__).parent.glob("parser*"))
    statements = workload(n)
    writes = [s for s in statements if not s.startswith("SELECT")]
    cat = catalog()
    print(f"sqlglot {sqlglot.__version__} ({'compiled' if compiled else 'pure Python'}), {n} statements", file=sys.stderr)

    def parse_qualify(sql: str) -> None:
        try:
            qualify(sqlglot.parse_one(sql, read="postgres"), dialect="postgres", validate_qualify_columns=False)
        except sqlglot.errors.OptimizeError:
            pass

    results = [
        rate("bare parse", statements, lambda s: sqlglot.parse_one(s, read="postgres")),
        rate("parse + qualify", statements, parse_qualify),
        rate("parse + qualify (write statements)", writes, parse_qualify),
        rate("extract, table level", statements, lambda s: extract(s, "postgres", columns=False)),
        rate("extract, column level", statements, lambda s: extract(s, "postgres")),
        rate("extract, column level, catalog", statements, lambda s: extract(s, "postgres", catalog=cat)),
        rate("extract, column level (write statements)", writes, lambda s: extract(s, "postgres")),
    ]
    big = "INSERT INTO t SELECT " + ", ".join(f"coalesce(a{i}, b{i}) + {i} AS c{i}" for i in range(14000)) + " FROM s"
    memory = {"statement_mb": round(len(big) / 1e6, 2), "peak_mb": peak_memory_mb(big)}
    print(f"  peak memory on a {memory['statement_mb']} MB statement: {memory['peak_mb']} MB", file=sys.stderr)
    return {"sqlglot": sqlglot.__version__, "compiled": compiled, "results": results, "memory": memory}


def pure_python_run(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run(pip + [f"sqlglot=={sqlglot.__version__}", "click"], check=True)
        out = subprocess.run([str(venv / "bin" / "python"), __file__, "-n", str(n), "--json"],
                             check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        print(out.stderr, end="", file=sys.stderr)  # its table, as the compiled run printed ours
        return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="statements in the mix")
    parser.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    parser.add_argument("--compare-pure", action="store_true", help="also run with pure-Python sqlglot in a temp venv")
    args = parser.parse_args()
    report = {"runs": [run(args.n)]}
    if args.compare_pure:
        report["runs"].append(pure_python_run(args.n))
    if args.json:
        print(json.dumps(report["runs"][0] if not args.compare_pure else report))


if __name__ == "__main__":
    main()
