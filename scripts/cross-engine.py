#!/usr/bin/env python3
"""Runs kbq's generated SQL on another engine, for the cross-engine tests.

  cross-engine.py --engine duckdb --data DIR --queries FILE

DIR holds what `kbq export` (or the tests) wrote: schema.sql (CREATE TABLE statements in
the engine's dialect, one per line) and one TABLE.csv per table (a header row; RFC 4180, \\N
for NULL). FILE is a JSON array of SQL statements. Prints a JSON array with, per statement,
either {"rows": [[cell, ...], ...]} (every cell as text, as libpq gives it: booleans t/f,
NULL as null) or {"error": "..."}. The rows are read back into kbq values by the same
decoder PostgreSQL's rows go through, so engines are compared on what kbq shows.
"""
import argparse
import json
import math
import os
import sys


def cell(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    return str(v)


def tables(data):
    with open(os.path.join(data, "schema.sql")) as f:
        statements = [s for s in f.read().split(";\n") if s.strip()]
    for s in statements:
        quote = "`" if "`" in s.split("(")[0] else '"'
        name = s.split(quote)[1] if s.startswith("CREATE TABLE") else None
        yield s, name


def run_duckdb(data, queries):
    import duckdb
    con = duckdb.connect()
    for statement, name in tables(data):
        con.execute(statement)
        path = os.path.join(data, f"{name}.csv") if name else None
        if path and os.path.exists(path):
            con.execute(f"COPY \"{name}\" FROM '{path}' (HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULL '\\N')")
    out = []
    for q in queries:
        try:
            out.append({"rows": [[cell(v) for v in row] for row in con.execute(q).fetchall()]})
        except Exception as e:  # an engine's refusal is a result to report, not a crash
            out.append({"error": str(e)})
    return out


def run_spark(data, queries):
    # Local mode runs the same SQL engine a cluster does; two cores, as on this machine.
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").appName("kbq-cross-engine")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.ansi.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for statement, name in tables(data):
        if name is None:
            spark.sql(statement)
            continue
        path = os.path.join(data, f"{name}.csv")
        if not os.path.exists(path):
            continue  # kbq_meta: no rows to read here
        spark.sql(statement + f" USING csv OPTIONS (path '{path}', header 'true', nullValue '\\\\N', "
                  "quote '\"', escape '\"', positiveInf 'Infinity', negativeInf '-Infinity')")
    out = []
    for q in queries:
        try:
            out.append({"rows": [[cell(v) for v in row] for row in spark.sql(q).collect()]})
        except Exception as e:  # an engine's refusal is a result to report, not a crash
            out.append({"error": str(e)[:2000]})
    spark.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True, choices=["duckdb", "spark"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--queries", required=True)
    a = ap.parse_args()
    with open(a.queries) as f:
        queries = json.load(f)
    run = run_duckdb if a.engine == "duckdb" else run_spark
    json.dump(run(a.data, queries), sys.stdout)


if __name__ == "__main__":
    main()
