"""A Snowflake QUERY_HISTORY export written from a list of statements (the columns, time format
and quirks of fixtures/logs/snowflake/query_history.csv)."""

import csv
from pathlib import Path

HEADER = ("QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,QUERY_TYPE,USER_NAME,ROLE_NAME,WAREHOUSE_NAME,START_TIME,"
          "END_TIME,EXECUTION_STATUS,ERROR_MESSAGE,ROWS_PRODUCED,SESSION_ID,QUERY_PARAMETERIZED_HASH").split(",")


def write_history(path: Path, statements: list[str], times: list[str] | None = None,
                  users: list[str] | None = None) -> Path:
    """``statements``, one run each, at ``times`` (``2024-03-31 00:00:00.000 -0800`` style;
    default: an hour apart on 2024-03-31), by ``users`` (default: ETL_SVC)."""
    times = times or [f"2024-03-31 {i:02d}:00:00.000 -0800" for i in range(len(statements))]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i, (sql, at) in enumerate(zip(statements, times)):
            out.writerow([f"01b3-extra-{i}", sql, "ANALYTICS", "MARTS", "INSERT", users[i] if users else "ETL_SVC", "TRANSFORMER", "ETL_WH",
                          at, at, "SUCCESS", "", 1, "42", ""])
    return path
