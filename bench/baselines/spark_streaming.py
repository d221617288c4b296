#!/usr/bin/env python3
"""The original pipeline's speed layer: the seed document's `StreamingLayer.stream()` (Spark
Structured Streaming, Kafka -> transforms -> JDBC append to PostgreSQL), kept as close to the
seed as possible so that bench/stream_bench.sh can run it side by side with `pinpipe stream`.

Differences from the seed, all needed only to run it here (or to measure it):
  * brokers, topic, JDBC URL, user and password come from arguments instead of being hard-coded
    ('localhost:9092', 'pinterest', 'jdbc:postgresql://localhost:5432/pinterest_streaming',
    postgres/password);
  * the master is `local[*]` (the seed relied on the pyspark-shell default, which is the same);
  * the connector versions follow the installed PySpark (the seed pinned 3.2.1 / 42.5.1, which
    does not match PySpark 3.5 and is not Java 17 friendly) and are resolved from Maven Central by
    `--packages` (Ivy) as in the seed, or given as local jars with --jars;
  * a checkpoint directory (`checkpointLocation`): the seed had none, so Spark used a temporary
    one and every restart re-read the topic from `earliest` and appended duplicates;
  * `--measure` adds two columns for the latency benchmark only: `ingested_at` (the Kafka record
    timestamp = the producer's CreateTime, which the ingest API stamps just before Kafka
    acknowledges it) and `loaded_at` (`current_timestamp()` in the foreachBatch function, i.e.
    the start of that micro-batch's JDBC write). Without --measure the output table has exactly
    the seed's columns.
Everything else -- startingOffsets earliest, the schema (with poster_name), from_json, the
regexp_replace cleaning, the integer cast, na.drop on follower_count, foreachBatch with
`write.jdbc(..., table="experimental_data", mode="append")`, outputMode("update") -- is the seed's.
"""
import argparse
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", default="localhost:9092")
    ap.add_argument("--topic", default="pinterest")
    ap.add_argument("--jdbc-url", default="jdbc:postgresql://localhost:5432/pinterest_streaming")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--password", default="")
    ap.add_argument("--table", default="experimental_data")
    ap.add_argument("--checkpoint", required=True, help="checkpointLocation directory")
    ap.add_argument("--packages", default=None,
                    help="Maven coordinates for --packages (default: matching the installed PySpark)")
    ap.add_argument("--jars", default=None, help="comma-separated local jars instead of --packages")
    ap.add_argument("--ivy", default=None, help="Ivy cache directory (spark.jars.ivy)")
    ap.add_argument("--measure", action="store_true",
                    help="add ingested_at (Kafka timestamp) and loaded_at columns (benchmark only)")
    ap.add_argument("--driver-memory", default=None, help="spark.driver.memory, e.g. 2g")
    args = ap.parse_args()

    import pyspark
    spark_version = pyspark.__version__
    packages = args.packages or (
        f"org.apache.spark:spark-sql-kafka-0-10_2.12:{spark_version},org.postgresql:postgresql:42.7.4")
    submit = ["--master", "local[*]"]
    submit += ["--jars", args.jars] if args.jars else ["--packages", packages]
    if args.ivy:
        submit += ["--conf", f"spark.jars.ivy={args.ivy}"]
    if args.driver_memory:
        submit += ["--driver-memory", args.driver_memory]
    # As in the seed: the connectors are handed to the pyspark shell through PYSPARK_SUBMIT_ARGS.
    os.environ["PYSPARK_SUBMIT_ARGS"] = " ".join(submit + ["pyspark-shell"])

    from pyspark.sql import SparkSession
    from pyspark.sql.functions import current_timestamp, from_json, regexp_replace
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    kafka_topic_name = args.topic
    kafka_bootstrap_servers = args.brokers

    sc = SparkSession \
        .builder \
        .appName("KafkaStreaming ") \
        .getOrCreate()
    sc.sparkContext.setLogLevel("WARN")

    stream_df = sc \
        .readStream \
        .format("kafka") \
        .option("kafka.bootstrap.servers", kafka_bootstrap_servers) \
        .option("subscribe", kafka_topic_name) \
        .option("startingOffsets", "earliest") \
        .load()

    stream_schema = StructType([
        StructField("index", IntegerType(), True),
        StructField("unique_id", StringType(), True),
        StructField("title", StringType(), True),
        StructField("poster_name", StringType(), True),
        StructField("follower_count", StringType(), True),
        StructField("tag_list", StringType(), True),
        StructField("is_image_or_video", StringType(), True),
        StructField("image_src", StringType(), True),
        StructField("downloaded", IntegerType(), True),
        StructField("save_location", StringType(), True),
        StructField("category", StringType(), True)
    ])

    if args.measure:  # benchmark only: keep the Kafka timestamp next to the value
        stream_df = stream_df.selectExpr("CAST(value as STRING)", "timestamp AS ingested_at")
    else:
        stream_df = stream_df.selectExpr("CAST(value as STRING)")
    stream_df = stream_df.withColumn("value", from_json("value", stream_schema))
    stream_df = stream_df.select('value.*', 'ingested_at') if args.measure \
        else stream_df.select('value.*')
    stream_df = stream_df.withColumn('tag_list', regexp_replace('tag_list', "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "None"))
    stream_df = stream_df.withColumn('image_src', regexp_replace('image_src', "Image src error.", "None"))
    stream_df = stream_df.withColumn('follower_count', regexp_replace('follower_count', 'k', '000'))
    stream_df = stream_df.withColumn('follower_count', regexp_replace('follower_count', 'M', '000000'))
    stream_df = stream_df.withColumn("follower_count", stream_df.follower_count.cast(IntegerType()))
    stream_df = stream_df.na.drop(subset=["follower_count"])

    def for_each_batch(stream_df, epoch_id):
        url = args.jdbc_url
        properties = {"user": args.user, "password": args.password, "driver": "org.postgresql.Driver"}
        if args.measure:  # benchmark only
            stream_df = stream_df.withColumn("loaded_at", current_timestamp())
        stream_df.write.jdbc(url=url, table=args.table, mode='append', properties=properties)

    stream_df.writeStream \
        .format("jdbc") \
        .foreachBatch(for_each_batch) \
        .outputMode("update") \
        .option("checkpointLocation", args.checkpoint) \
        .start() \
        .awaitTermination()
    return 0


if __name__ == "__main__":
    sys.exit(main())
