#!/usr/bin/env python3
"""The original pipeline's batch layer: the seed document's `Batch_Layer.batch()` (PySpark,
`local[*]`: read every JSON record, four regexp_replace cleanings, the integer cast), kept as
close to the seed as possible so that bench/batch_bench.sh can run it side by side with
`pinpipe batch` on the same archived records.

Differences from the seed, all needed only to run it here (or to measure it):
  * the input path comes from an argument instead of "s3a://<bucket>/*.json": the same archive
    objects pinpipe reads, as local files (e.g. "file:///lake/pinterest/dt=2024-01-01/hr=*/*");
    so the S3 connector packages (aws-java-sdk-s3, hadoop-aws) and the access-key configuration
    are not needed and not loaded;
  * `df.show(200, truncate=True)` evaluates only the first ~200 rows, which measures nothing;
    the last line instead forces every row through the same plan: `--sink noop` (Spark's noop
    data source: read, parse, clean, discard; the default) or `--sink csv DIR` (also write the
    cleaned rows as CSV, the closest to pinpipe's CSV+JSONL lake output);
  * timing: the seconds from the session being up to the end of the action are printed as one
    JSON line on stdout (startup is measured by the caller around the whole process).
Everything else -- SparkConf().setAppName('S3toSpark').setMaster('local[*]'), SparkContext,
SparkSession, spark.read.json with schema inference, the four regexp_replace calls and the
cast -- is the seed's, in the seed's order.

Input format: the archive objects are zstd-compressed JSON lines (".jsonl.zst"). Spark 3.5's
Hadoop 3.3.4 reads them through its ZStandardCodec only with the native libhadoop, which PyPI's
pyspark does not ship; the benchmark therefore gives Spark the same records decompressed
(".jsonl", see bench/batch_bench.sh), which spares Spark the decompression pinpipe does.
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="path or glob of the JSON-lines files (file:///...)")
    ap.add_argument("--sink", choices=["noop", "csv"], default="noop")
    ap.add_argument("--out", default=None, help="output directory for --sink csv")
    ap.add_argument("--driver-memory", default=None, help="spark.driver.memory, e.g. 2g")
    args = ap.parse_args()

    submit = []
    if args.driver_memory:
        submit += ["--driver-memory", args.driver_memory]
    # As in the seed, settings reach the JVM through PYSPARK_SUBMIT_ARGS.
    os.environ["PYSPARK_SUBMIT_ARGS"] = " ".join(submit + ["pyspark-shell"])

    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import regexp_replace
    from pyspark.sql.types import IntegerType

    cfg = SparkConf().setAppName('S3toSpark').setMaster('local[*]')  # Creates the Spark configuration
    sc = SparkContext(conf=cfg)        # Creates the Spark context
    sc.setLogLevel("ERROR")
    spark = SparkSession(sc).builder.appName("S3toSpark").getOrCreate()  # Creates the Spark session

    started = time.monotonic()
    df = spark.read.json(args.input)
    df = df.withColumn('tag_list', regexp_replace('tag_list', "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "None"))
    df = df.withColumn('follower_count', regexp_replace('follower_count', 'k', '000'))
    df = df.withColumn('follower_count', regexp_replace('follower_count', 'M', '000000'))
    df = df.withColumn('save_location', regexp_replace('save_location', 'Local save in ', ''))
    df = df.withColumn("follower_count", df.follower_count.cast(IntegerType()))
    if args.sink == "csv":
        if not args.out:
            print("--sink csv needs --out", file=sys.stderr)
            return 2
        df.write.mode("overwrite").option("header", "true").csv(args.out)
    else:
        df.write.format("noop").mode("overwrite").save()
    seconds = time.monotonic() - started
    print(json.dumps({"engine": "spark", "spark_version": spark.version, "sink": args.sink,
                      "job_seconds": round(seconds, 3)}))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
