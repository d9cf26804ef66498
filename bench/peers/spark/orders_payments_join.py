"""
Orders joined with payments, the Spark Structured Streaming peer of sluice's
orders-payments job, on the same topics (JSON values keyed by order_id, seed
001 shapes, written by bench/scenarios/kafka-data.ts).

Plan, all in event time (order_date / payment_date), 60 s watermarks:

  orders   -> withWatermark(order_time, 60 s)
           -> dropDuplicatesWithinWatermark(order_id)   (the first order wins)
  payments -> withWatermark(payment_time, 60 s)
  left-outer interval join on order_id,
      payment_time in [order_time - 1 min, order_time + 15 min]
  -> foreachBatch: count the rows, paid and unpaid (the peer of sluice's
     discard sink, and of the Kafka Streams peer's counting foreach)

Usage:
  orders_payments_join.py backlog|live brokers ordersTopic paymentsTopic
                          checkpointDir ivyDir expectedRecords shufflePartitions timeoutS

backlog: it reads both topics from the earliest offset with the availableNow
trigger (the whole backlog, as few micro-batches as Spark makes of it: without
maxOffsetsPerTrigger, one), then prints one JSON line to stdout:
  {"records":N,"joined":J,"unpaid":U,"firstRecordMs":T0,"lastRecordMs":T1,
   "cpuS":C,"cpuTotalS":CT,"batches":B,"startupS":S}
records is the sum of numInputRows over the micro-batches; firstRecordMs is
the start of the first micro-batch, lastRecordMs the end of the query. cpuS
is the CPU time (user + system) of this Python process and every process
under it (the driver JVM) between the query's start and its end, from /proc;
cpuTotalS also counts the session's start-up (JVM launch, package resolution).

live (the latency phase): the default trigger (the next micro-batch as soon as
the last one ends) over topics a live producer is filling. It prints
{"ready":true} once the first micro-batch has run, and stops when its stdin
closes (or after timeoutS); then it prints {"samples":[[eventMs,latencyMs],...]}
with, for every paid row, eventMs = the later of the order's and the payment's
event times (the producer's send time) and latencyMs = the time the row's
micro-batch reached the sink minus eventMs: the same measure as sluice's
latency sink (bench/jobs/latency-sink.ts).
"""

import json
import os
import sys
import threading
import time
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

ORDER = T.StructType(
    [
        T.StructField("order_id", T.StringType()),
        T.StructField("order_date", T.StringType()),
        T.StructField("created_at", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("amount", T.DoubleType()),
    ]
)
PAYMENT = T.StructType(
    [
        T.StructField("payment_id", T.StringType()),
        T.StructField("order_id", T.StringType()),
        T.StructField("payment_date", T.StringType()),
        T.StructField("created_at", T.StringType()),
        T.StructField("amount", T.DoubleType()),
    ]
)

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2 :].split(" ")
    # After the command name: state, ppid, ... utime is field 14 of stat, stime 15.
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds():
    """utime + stime of this process and all its descendants (the driver JVM is one)."""
    parent = {}
    cpu = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid, c = _stat(int(name))
        except (OSError, ValueError, IndexError):
            continue
        parent[int(name)] = ppid
        cpu[int(name)] = c
    me = os.getpid()
    total = 0.0
    for pid, c in cpu.items():
        p = pid
        while p and p != me:
            p = parent.get(p, 0)
        if p == me:
            total += c
    return total


def main(argv):
    if len(argv) != 10 or argv[1] not in ("backlog", "live"):
        print(__doc__, file=sys.stderr)
        return 2
    mode = argv[1]
    brokers, orders_topic, payments_topic, checkpoint_dir, ivy_dir = argv[2:7]
    expected, shuffle_partitions, timeout_s = int(argv[7]), int(argv[8]), int(argv[9])
    import pyspark

    t_session = time.time()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sluice-bench-spark-peer")
        # Spark 4.x is built for Scala 2.13; the connector must match Spark's version exactly.
        .config("spark.jars.packages", f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}")
        .config("spark.jars.ivy", ivy_dir)
        .config("spark.driver.memory", os.environ.get("SPARK_PEER_DRIVER_MEMORY", "2g"))
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        # RocksDB state, as Kafka Streams keeps its windows in RocksDB and sluice its state in LMDB.
        .config(
            "spark.sql.streaming.stateStore.providerClass",
            "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
        )
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    startup_s = time.time() - t_session

    def topic(name, schema, time_field):
        return (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", brokers)
            .option("subscribe", name)
            .option("startingOffsets", "earliest")
            .option("failOnDataLoss", "false")
            .load()
            .select(F.from_json(F.col("value").cast("string"), schema).alias("v"))
            .select("v.*")
            # A record that is not JSON comes out as nulls and is dropped (sluice dead-letters it).
            .where(F.col("order_id").isNotNull())
            .withColumn(time_field, F.col(time_field.replace("_time", "_date")).cast("timestamp"))
        )

    orders = (
        topic(orders_topic, ORDER, "order_time")
        .withWatermark("order_time", "60 seconds")
        .dropDuplicatesWithinWatermark(["order_id"])
        .alias("o")
    )
    payments = topic(payments_topic, PAYMENT, "payment_time").withWatermark("payment_time", "60 seconds").alias("p")
    joined = orders.join(
        payments,
        F.expr(
            "o.order_id = p.order_id"
            " AND p.payment_time >= o.order_time - INTERVAL 1 MINUTE"
            " AND p.payment_time <= o.order_time + INTERVAL 15 MINUTES"
        ),
        "leftOuter",
    ).select(
        F.col("o.order_id").alias("order_id"),
        F.col("o.order_date").alias("order_date"),
        F.col("o.customer_id").alias("customer_id"),
        F.col("o.amount").alias("order_amount"),
        F.col("p.payment_id").alias("payment_id"),
        F.col("p.payment_date").alias("payment_date"),
        F.col("p.amount").alias("payment_amount"),
        F.when(F.col("p.payment_id").isNull(), F.lit("unpaid")).otherwise(F.lit("paid")).alias("status"),
    )

    if mode == "live":
        return live(spark, joined, checkpoint_dir, timeout_s)

    counts = {"paid": 0, "unpaid": 0}

    def count_batch(df, _batch_id):
        for row in df.groupBy("status").count().collect():
            counts[row["status"]] = counts.get(row["status"], 0) + row["count"]

    cpu0 = tree_cpu_seconds()
    query = (
        joined.writeStream.outputMode("append")
        .option("checkpointLocation", checkpoint_dir)
        .trigger(availableNow=True)
        .foreachBatch(count_batch)
        .start()
    )
    finished = query.awaitTermination(timeout_s)
    end_ms = int(time.time() * 1000)
    cpu1 = tree_cpu_seconds()
    if not finished:
        query.stop()
        print(f"timed out after {timeout_s} s", file=sys.stderr)
        return 1
    if query.exception() is not None:
        print(f"query failed: {query.exception()}", file=sys.stderr)
        return 1
    progress = [p for p in query.recentProgress if p.numInputRows > 0]
    records = sum(p.numInputRows for p in query.recentProgress)
    first_ms = (
        int(datetime.fromisoformat(progress[0].timestamp.replace("Z", "+00:00")).timestamp() * 1000) if progress else end_ms
    )
    if records < expected:
        print(f"read {records} of {expected} records", file=sys.stderr)
        return 1
    report = {
        "records": records,
        "joined": counts.get("paid", 0),
        "unpaid": counts.get("unpaid", 0),
        "firstRecordMs": first_ms,
        "lastRecordMs": end_ms,
        "cpuS": round(cpu1 - cpu0, 2),
        "cpuTotalS": round(cpu1, 2),
        "batches": len(query.recentProgress),
        "startupS": round(startup_s, 2),
        "spark": spark.version,
    }
    print(json.dumps(report), flush=True)
    spark.stop()
    return 0


def live(spark, joined, checkpoint_dir, timeout_s):
    samples = []
    batches = [0]

    def sample_batch(df, _batch_id):
        rows = (
            df.where(F.col("status") == "paid")
            .select(
                F.greatest(
                    F.unix_millis(F.col("order_date").cast("timestamp")),
                    F.unix_millis(F.col("payment_date").cast("timestamp")),
                ).alias("t")
            )
            .collect()
        )
        now = int(time.time() * 1000)
        samples.extend([r["t"], now - r["t"]] for r in rows)
        batches[0] += 1

    query = (
        joined.writeStream.outputMode("append")
        .option("checkpointLocation", checkpoint_dir)
        .foreachBatch(sample_batch)
        .start()
    )
    deadline = time.time() + timeout_s
    # Ready once the sources are initialized and the query waits for data (or has run a batch).
    while batches[0] == 0 and time.time() < deadline and query.isActive:
        if query.status.get("message", "").startswith("Waiting for data"):
            break
        time.sleep(0.05)
    print(json.dumps({"ready": True}), flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(max(0, deadline - time.time()))
    query.stop()
    print(json.dumps({"samples": samples, "batches": batches[0]}), flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
