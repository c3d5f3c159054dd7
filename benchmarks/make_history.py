"""Write a synthetic Snowflake-style QUERY_HISTORY export for benchmarks.

    python benchmarks/make_history.py /tmp/history.csv [--rows 200000] [--distinct 0.033] [--with-hash]

6,600 statement templates (3.3 % of 200,000 rows) by default, every one used at
least once, the rest drawn with a Zipf-like skew as in real logs. About half
the templates get new literals on every run (ids, dates, emails, amounts); the
others repeat the very same text (dashboards, scheduled jobs). 1 % of runs
failed. ``--with-hash`` fills QUERY_PARAMETERIZED_HASH (one per template), as
recent Snowflake accounts do; without it the column is empty and every
fingerprint is computed. Deterministic: the same arguments write the same file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Callable

COLUMNS = ["QUERY_ID", "QUERY_TEXT", "DATABASE_NAME", "SCHEMA_NAME", "QUERY_TYPE", "USER_NAME", "ROLE_NAME",
           "WAREHOUSE_NAME", "START_TIME", "END_TIME", "EXECUTION_STATUS", "ROWS_PRODUCED", "SESSION_ID",
           "QUERY_PARAMETERIZED_HASH"]
WORDS = ["order", "customer", "payment", "invoice", "product", "shipment", "account", "event", "session", "refund",
         "subscription", "campaign", "ticket", "review", "warehouse", "supplier", "visit", "cart", "coupon", "device"]
FIELDS = ["id", "status", "amount", "created_at", "updated_at", "email", "country", "channel", "region", "score",
          "quantity", "price", "currency", "source", "segment", "owner"]
USERS = ["ETL_SVC", "DBT_SVC", "LOOKER_SVC", "ANN", "BOB", "CHEN", "DANA", "EVE"]
Literal = Callable[[random.Random], str]
LITERALS: list[Literal] = [
    lambda r: str(r.randrange(1, 10_000_000)),
    lambda r: f"'{datetime(2024, 1, 1) + timedelta(days=r.randrange(365)):%Y-%m-%d}'",
    lambda r: f"'user{r.randrange(100_000)}@example.com'",
    lambda r: f"{r.randrange(1, 100_000) / 100:.2f}",
    lambda r: f"'{r.choice(['shipped', 'open', 'cancelled', 'returned', 'paid'])}'",
    lambda r: "(" + ", ".join(str(r.randrange(1, 99_999)) for _ in range(r.randrange(1, 8))) + ")",
]


def templates(count: int) -> list[tuple[str, str, int]]:
    """(template text with {0}, {1}, ... literal slots, query type, slot kinds seed) per template."""
    tables = [f"{a}_{b}" for a in WORDS for b in ("raw", "stg", "fct", "dim", "snap")]
    out = []
    for i in range(count):
        table, shape = tables[i % len(tables)], i // len(tables)
        cols = [FIELDS[(shape + k * 3) % len(FIELDS)] for k in range(2 + shape % 5)]
        out.append(_shape(shape % 6, table, cols, shape))
    assert len({text for text, _, _ in out}) == count, "templates must differ"
    return out


def _shape(kind: int, table: str, cols: list[str], n: int) -> tuple[str, str, int]:
    select = ", ".join(f"t.{c}" for c in cols)
    other = f"{WORDS[n % len(WORDS)]}_dim"
    if kind == 0:
        return f"SELECT {select} FROM analytics.marts.{table} t WHERE t.{cols[0]} = {{0}} AND t.created_at >= {{1}}", "SELECT", n
    if kind == 1:
        return (f"SELECT {select}, count(*) AS n, sum(t.amount) AS total\nFROM analytics.marts.{table} t\n"
                f"JOIN analytics.marts.{other} d ON d.id = t.{cols[-1]}\nWHERE t.created_at BETWEEN {{1}} AND {{1}}\n"
                f"  AND d.status = {{4}}\nGROUP BY ALL ORDER BY total DESC LIMIT 100", "SELECT", n)
    if kind == 2:
        return (f"INSERT INTO analytics.staging.{table} ({', '.join(cols)})\nWITH src AS (\n  SELECT {select}, "
                f"row_number() OVER (PARTITION BY t.id ORDER BY t.updated_at DESC) AS rn\n"
                f"  FROM analytics.raw.{table} t WHERE t.updated_at > {{1}}\n)\n"
                f"SELECT {', '.join(cols)} FROM src WHERE rn = 1", "INSERT", n)
    if kind == 3:
        sets = ", ".join(f"{c} = s.{c}" for c in cols)
        return (f"UPDATE analytics.marts.{table} t SET {sets}, updated_at = current_timestamp()\n"
                f"FROM analytics.staging.{table} s WHERE s.id = t.id AND s.amount > {{3}}", "UPDATE", n)
    if kind == 4:
        return (f"MERGE INTO analytics.marts.{table} t USING analytics.staging.{table} s ON t.id = s.id\n"
                f"WHEN MATCHED AND s.status = {{4}} THEN UPDATE SET t.{cols[0]} = s.{cols[0]}\n"
                f"WHEN NOT MATCHED THEN INSERT ({', '.join(cols)}) VALUES ({', '.join('s.' + c for c in cols)})", "MERGE", n)
    return (f"SELECT {select} FROM analytics.marts.{table} t WHERE t.email = {{2}} OR t.id IN {{5}}", "SELECT", n)


def rows(count: int, distinct: float, with_hash: bool, seed: int = 7):
    rng = random.Random(seed)
    shapes = templates(max(1, round(count * distinct)))
    fixed = [rng.random() < 0.5 for _ in shapes]  # these repeat one exact text
    weights = [1 / (k + 1) ** 0.8 for k in range(len(shapes))]
    frozen: dict[int, str] = {}
    start = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=-8)))
    order = list(range(len(shapes))) + rng.choices(range(len(shapes)), weights, k=count - len(shapes))
    rng.shuffle(order)
    for n, k in enumerate(order):
        text, qtype, _ = shapes[k]
        if fixed[k]:
            sql = frozen.setdefault(k, text.format(*(f(rng) for f in LITERALS)))
        else:
            sql = text.format(*(f(rng) for f in LITERALS))
        began = start + timedelta(milliseconds=n * 430 + rng.randrange(400))
        status = "FAIL" if rng.random() < 0.01 else "SUCCESS"
        yield [f"01b2{n:012x}-0000-{k:04x}", sql, "ANALYTICS", "MARTS", qtype, rng.choice(USERS), "TRANSFORMER",
               "WH_XS" if qtype == "SELECT" else "WH_ETL", _stamp(began), _stamp(began + timedelta(milliseconds=rng.randrange(50, 90_000))),
               status, str(rng.randrange(0, 10_000)), str(1000 + n // 40),
               hashlib.md5(text.encode()).hexdigest() if with_hash else ""]


def _stamp(moment: datetime) -> str:
    """Snowsight's CSV download format: 2024-03-01 10:23:45.123 -0800."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} " + moment.strftime("%z")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="file to write (.csv, or .csv.gz to compress)")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--distinct", type=float, default=0.033, help="share of distinct statements after literal normalization")
    parser.add_argument("--with-hash", action="store_true", help="fill QUERY_PARAMETERIZED_HASH")
    args = parser.parse_args()
    opener = gzip.open if args.path.endswith(".gz") else open
    with opener(args.path, "wt", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(rows(args.rows, args.distinct, args.with_hash))
    print(f"wrote {args.rows} rows to {args.path}")


if __name__ == "__main__":
    main()
