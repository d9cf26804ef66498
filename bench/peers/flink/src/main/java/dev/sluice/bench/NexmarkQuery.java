package dev.sluice.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * The Flink peer of the Kafka-fed Nexmark benchmark: one Nexmark query (the SQL
 * in resources/nexmark/) over the events topic, in a local mini-cluster of the
 * given parallelism, reading the topic to the end offsets it has at start.
 *
 * Usage: NexmarkQuery <brokers> <topic> <query> <parallelism> <mode> <stateBackend> <checkpointMs>
 *   mode  "blackhole": INSERT INTO the query's blackhole table (the benchmark);
 *         "count": collect the query's rows and count them (a cross-check, not timed).
 *
 * Prints one JSON line: the query, the wall time and the JVM's CPU time (utime +
 * stime of /proc/self/stat) from the job's RUNNING status to its end, and the
 * same from submission (planning and code generation included).
 */
public final class NexmarkQuery {
  private NexmarkQuery() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 7) {
      System.err.println("usage: NexmarkQuery <brokers> <topic> <query> <parallelism> <blackhole|count> <rocksdb|hashmap> <checkpointMs>");
      System.exit(2);
    }
    String brokers = args[0];
    String topic = args[1];
    String query = args[2];
    int parallelism = Integer.parseInt(args[3]);
    String mode = args[4];
    String backend = args[5];
    long checkpointMs = Long.parseLong(args[6]);

    Configuration conf = new Configuration();
    // nexmark/nexmark's flink-conf: RocksDB, incremental checkpoints; its table options below.
    conf.setString("state.backend.type", backend);
    conf.setString("state.backend.incremental", "true");
    conf.setString("state.checkpoints.dir", Path.of(System.getProperty("java.io.tmpdir"), "sluice-flink-peer-checkpoints").toUri().toString());
    conf.setString("execution.checkpointing.interval", checkpointMs + " ms");
    conf.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
    conf.setString("taskmanager.memory.managed.fraction", "0.23");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
    StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
    Configuration t = tEnv.getConfig().getConfiguration();
    t.setString("table.exec.mini-batch.enabled", "true");
    t.setString("table.exec.mini-batch.allow-latency", "2 s");
    t.setString("table.exec.mini-batch.size", "50000");
    t.setString("table.optimizer.distinct-agg.split.enabled", "true");

    String group = "sluice-flink-peer-" + query + "-" + Long.toString(System.currentTimeMillis(), 36);
    for (String stmt : statements(resource("ddl.sql").replace("${TOPIC}", topic).replace("${BOOTSTRAP_SERVERS}", brokers).replace("${GROUP_ID}", group))) {
      tEnv.executeSql(stmt);
    }
    String[] q = statements(resource(query + ".sql"));
    tEnv.executeSql(q[0]); // the blackhole table
    String insert = q[1];

    long t0 = System.nanoTime();
    double c0 = cpuSeconds();
    if (mode.equals("count")) {
      String select = insert.substring(insert.indexOf('\n') + 1);
      long rows = 0;
      try (CloseableIterator<Row> it = tEnv.executeSql(select).collect()) {
        while (it.hasNext()) {
          it.next();
          rows++;
        }
      }
      System.out.println(String.format(Locale.ROOT, "{\"query\":\"%s\",\"rows\":%d,\"totalMs\":%.1f}", query, rows, (System.nanoTime() - t0) / 1e6));
      System.exit(0);
    }
    TableResult result = tEnv.executeSql(insert);
    JobClient job = result.getJobClient().orElseThrow();
    long tRunning = 0;
    double cRunning = 0;
    while (true) {
      JobStatus s = job.getJobStatus().get();
      if (s == JobStatus.RUNNING || s.isGloballyTerminalState()) {
        tRunning = System.nanoTime();
        cRunning = cpuSeconds();
        break;
      }
      Thread.sleep(5);
    }
    result.await();
    long t1 = System.nanoTime();
    double c1 = cpuSeconds();
    // The mini-cluster stops with the job: its status can no longer be asked for; await() threw if it failed.
    String end = "FINISHED";
    System.out.println(String.format(Locale.ROOT,
        "{\"query\":\"%s\",\"status\":\"%s\",\"runningMs\":%.1f,\"runningCpuS\":%.3f,\"totalMs\":%.1f,\"totalCpuS\":%.3f,\"jvmCpuS\":%.3f}",
        query, end, (t1 - tRunning) / 1e6, c1 - cRunning, (t1 - t0) / 1e6, c1 - c0, c1));
    System.exit(0);
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = NexmarkQuery.class.getResourceAsStream("/nexmark/" + name)) {
      if (in == null) throw new IOException("no resource nexmark/" + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Statements of a script: ";" at a line's end ends one; "--" lines are comments. */
  private static String[] statements(String script) {
    StringBuilder cleaned = new StringBuilder();
    for (String line : script.split("\n")) {
      if (!line.trim().startsWith("--")) cleaned.append(line).append('\n');
    }
    return java.util.Arrays.stream(cleaned.toString().split(";\\s*\n"))
        .map(String::trim)
        .map(x -> x.endsWith(";") ? x.substring(0, x.length() - 1) : x)
        .filter(x -> !x.isEmpty())
        .toArray(String[]::new);
  }

  /** utime + stime of this JVM, from /proc/self/stat (clock ticks of 1/100 s). */
  private static double cpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }
}
