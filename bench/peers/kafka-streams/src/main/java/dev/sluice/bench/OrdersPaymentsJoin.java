package dev.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Orders joined with payments on order_id within 15 minutes of event time,
 * the first order of an id winning: the Kafka Streams peer of sluice's
 * orders-payments job, on the same topics (JSON values keyed by order_id,
 * record timestamps = event time).
 *
 * Topology: orders -> first-order dedupe (a persistent window store, the
 * usual Kafka Streams dedupe) -> KStream-KStream join with payments
 * (JoinWindows of 15 minutes, RocksDB window stores) -> a no-op foreach (the
 * peer of sluice's discard sink).
 *
 * Usage: OrdersPaymentsJoin brokers ordersTopic paymentsTopic applicationId stateDir expectedRecords threads timeoutSeconds
 *
 * It reads until it has seen expectedRecords input records (orders plus
 * payments), then prints one JSON line to stdout and exits:
 *   {"records":N,"joined":J,"firstRecordMs":T0,"lastRecordMs":T1,"runningMs":R}
 * with epoch milliseconds of the first and last input record processed and of
 * the first RUNNING state.
 */
public final class OrdersPaymentsJoin {
  private static final Duration WINDOW = Duration.ofMinutes(15);
  private static final String FIRST_ORDERS = "first-orders";
  private static final ObjectMapper JSON = new ObjectMapper();

  static final AtomicLong seen = new AtomicLong();
  static final AtomicLong joined = new AtomicLong();
  static volatile long firstRecordMs = 0;

  /** Serde for JSON values: decoded to a tree, as sluice's json codec decodes to an object. */
  static final class JsonSerde implements Serde<JsonNode> {
    @Override
    public Serializer<JsonNode> serializer() {
      return (topic, node) -> {
        try {
          return node == null ? null : JSON.writeValueAsBytes(node);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      };
    }

    @Override
    public Deserializer<JsonNode> deserializer() {
      return (topic, bytes) -> {
        try {
          return bytes == null ? null : JSON.readTree(bytes);
        } catch (IOException e) {
          // A record that is not JSON is dropped (sluice dead-letters it).
          return null;
        }
      };
    }
  }

  /** Keeps the first order of each order_id within the window; later duplicates are dropped. */
  static final class FirstOrderWins implements FixedKeyProcessor<String, JsonNode, JsonNode> {
    private FixedKeyProcessorContext<String, JsonNode> ctx;
    private WindowStore<String, Long> firsts;

    @Override
    public void init(FixedKeyProcessorContext<String, JsonNode> context) {
      this.ctx = context;
      this.firsts = context.getStateStore(FIRST_ORDERS);
    }

    @Override
    public void process(FixedKeyRecord<String, JsonNode> r) {
      if (r.key() == null || r.value() == null) return;
      long ts = r.timestamp();
      try (WindowStoreIterator<Long> it = firsts.fetch(r.key(), ts - WINDOW.toMillis(), ts + WINDOW.toMillis())) {
        if (it.hasNext()) return;
      }
      firsts.put(r.key(), ts, ts);
      ctx.forward(r);
    }
  }

  static JsonNode join(JsonNode order, JsonNode payment) {
    ObjectNode out = JSON.createObjectNode();
    out.put("order_id", order.path("order_id").asText());
    out.put("order_date", order.path("order_date").asText());
    out.put("customer_id", order.path("customer_id").asText());
    out.put("order_amount", order.path("amount").asDouble());
    out.put("payment_id", payment.path("payment_id").asText());
    out.put("payment_date", payment.path("payment_date").asText());
    out.put("payment_amount", payment.path("amount").asDouble());
    out.put("status", "paid");
    return out;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 8) {
      System.err.println("usage: OrdersPaymentsJoin brokers ordersTopic paymentsTopic applicationId stateDir expectedRecords threads timeoutSeconds");
      System.exit(2);
    }
    String brokers = args[0], ordersTopic = args[1], paymentsTopic = args[2], appId = args[3], stateDir = args[4];
    long expected = Long.parseLong(args[5]);
    int threads = Integer.parseInt(args[6]);
    long timeoutMs = Long.parseLong(args[7]) * 1000;

    Serde<String> keys = Serdes.String();
    Serde<JsonNode> values = new JsonSerde();
    StreamsBuilder b = new StreamsBuilder();
    b.addStateStore(
        Stores.windowStoreBuilder(Stores.persistentWindowStore(FIRST_ORDERS, WINDOW.multipliedBy(2).plusMinutes(1), WINDOW.multipliedBy(2), false), keys, Serdes.Long()));

    KStream<String, JsonNode> orders = b.stream(ordersTopic, Consumed.with(keys, values)).peek((k, v) -> count());
    KStream<String, JsonNode> payments = b.stream(paymentsTopic, Consumed.with(keys, values)).peek((k, v) -> count());
    orders
        .processValues(FirstOrderWins::new, FIRST_ORDERS)
        .join(payments, OrdersPaymentsJoin::join, JoinWindows.ofTimeDifferenceAndGrace(WINDOW, Duration.ofMinutes(1)), StreamJoined.with(keys, values, values))
        .foreach((k, v) -> joined.incrementAndGet());

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // Commit once a second, as sluice checkpoints once a second by default (Kafka Streams' default is 30 s).
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);

    KafkaStreams ks = new KafkaStreams(b.build(), p);
    long[] runningMs = {0};
    ks.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING && runningMs[0] == 0) runningMs[0] = System.currentTimeMillis();
    });
    ks.setUncaughtExceptionHandler(e -> {
      e.printStackTrace();
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    long started = System.currentTimeMillis();
    ks.start();
    while (seen.get() < expected) {
      if (System.currentTimeMillis() - started > timeoutMs) {
        System.err.printf("timed out after %d s with %d of %d records%n", timeoutMs / 1000, seen.get(), expected);
        ks.close(Duration.ofSeconds(10));
        System.exit(1);
      }
      if (ks.state() == KafkaStreams.State.ERROR || ks.state() == KafkaStreams.State.NOT_RUNNING) {
        System.err.println("kafka streams stopped: " + ks.state());
        System.exit(1);
      }
      Thread.sleep(5);
    }
    long last = System.currentTimeMillis();
    System.out.printf("{\"records\":%d,\"joined\":%d,\"firstRecordMs\":%d,\"lastRecordMs\":%d,\"runningMs\":%d}%n", seen.get(), joined.get(), firstRecordMs, last, runningMs[0]);
    System.out.flush();
    ks.close(Duration.ofSeconds(30));
    ks.cleanUp();
    System.exit(0);
  }

  private static void count() {
    if (firstRecordMs == 0) firstRecordMs = System.currentTimeMillis();
    seen.incrementAndGet();
  }
}
