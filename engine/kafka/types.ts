/**
 * sluice's own narrow view of a Kafka client. Nothing here mentions kafkajs,
 * so the engine can move to another client (librdkafka bindings, a Rust
 * consumer) by re-implementing engine/kafka/{consumer,producer,admin}.ts only.
 *
 * Offsets and timestamps are plain numbers: Kafka offsets are int64 but a
 * partition would need 2^53 records (9e15) before a double loses precision,
 * and converting once at the edge keeps every hot path free of bigint/Long.
 */
import type { KafkaOutputRecord } from '../contracts/sinks.ts';

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A record as the engine sees it, converted once from the client's form. */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch (CreateTime or LogAppendTime, whichever the topic uses). */
  timestamp: number;
  /**
   * Present only when the record has headers. A header key that occurs more
   * than once keeps its last value (Kafka's `lastHeader` semantics).
   */
  headers?: Record<string, Buffer | string>;
}

/**
 * What `onBatch` receives: records of one partition, in offset order, read
 * by index (no object per record), or as KafkaRecord objects (`records`,
 * made on first use).
 */
export interface KafkaBatch {
  topic: string;
  partition: number;
  /** Records in the batch (at least one). */
  readonly length: number;
  offset(i: number): number;
  timestamp(i: number): number;
  key(i: number): Buffer | null;
  value(i: number): Buffer | null;
  readonly records: KafkaRecord[];
  /** The partition's high watermark when the batch was fetched (offset of the next record to be written). */
  highWatermark: number;
  /**
   * Where the partition's readable records ended when the batch was fetched:
   * the last stable offset (the consumer reads committed records only, and an
   * open transaction holds it below the high watermark), or the high
   * watermark when the broker did not say.
   */
  readEnd: number;
  /**
   * The offset after this batch, past any trailing control records
   * (transaction markers): above the last record's offset + 1 when the
   * batch ends in a commit marker.
   */
  nextOffset: number;
}

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaSaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaClientConfig {
  /** host:port of one or more bootstrap brokers. */
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: KafkaSaslConfig;
  /** TCP connect timeout; kafkajs' default of 1 s is short for a busy CI machine. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /**
   * How long `ensureTopic` waits for a topic's partitions to have leaders that
   * serve them (a busy broker, or a concurrent creator, can take seconds).
   * Default 30 s, or env SLUICE_TOPIC_READY_TIMEOUT_MS.
   */
  topicReadyTimeoutMs?: number;
  /** Client log level; WARN and above go to stderr by default. Env SLUICE_KAFKA_LOG_LEVEL overrides. */
  logLevel?: KafkaLogLevel;
  retry?: {
    retries?: number;
    initialRetryTimeMs?: number;
    maxRetryTimeMs?: number;
  };
}

/** Map key for a partition: `${topic}:${partition}`. Topic names cannot contain ':'. */
export type PartitionKey = string;

/** The next offset to read for each newly assigned partition; -1 means "use the group's committed offset, else earliest". */
export type AssignedOffsets = Map<PartitionKey, number>;

export interface GroupConsumerHandlers {
  /**
   * Called after every group join with every partition this member now owns.
   * No record of these partitions is delivered until the returned promise
   * resolves and the consumer has sought each partition to its offset.
   * Partitions missing from the map are treated as -1.
   */
  onAssigned(tps: TopicPartition[]): Promise<AssignedOffsets>;
  /**
   * Called before partitions are released (rebalance, stop, crash), after the
   * last `onBatch` for them and before any other member can be assigned them:
   * our JoinGroup/LeaveGroup waits for the returned promise. kafkajs speaks
   * the eager protocol, so at a rebalance this is every partition handed to
   * the previous onAssigned (whether or not that resolved); the ones this
   * member keeps come back through onAssigned. See consumer.ts.
   */
  onRevoked(tps: TopicPartition[]): Promise<void>;
  /** Synchronous and fast: hand the batch to a worker and return. */
  onBatch(batch: KafkaBatch): void;
  /**
   * A fetch of a partition held only control records (transaction markers)
   * or aborted data: nothing to process, but the partition's position moved
   * to `nextOffset`. Lets the engine report progress past the markers that
   * end every transaction (otherwise its lag never reaches 0).
   */
  onMarkers?(tp: TopicPartition, nextOffset: number): void;
  /** Errors the consumer cannot return to a caller (crash, a failing handler). */
  onError?(err: Error): void;
  /** Observability: group joins, rebalances, crashes. */
  onEvent?(event: GroupConsumerEvent): void;
}

export type GroupConsumerEvent =
  | { type: 'group-join'; generation: number; assigned: TopicPartition[] }
  | { type: 'rebalancing'; reason: string }
  | { type: 'revoked'; partitions: TopicPartition[] }
  | { type: 'ready'; partitions: TopicPartition[] }
  | { type: 'crash'; error: Error; restart: boolean }
  | { type: 'stopped' };

export interface GroupConsumerOptions {
  groupId: string;
  topics: string[];
  handlers: GroupConsumerHandlers;
  /** Default 30 000. The broker evicts a member that sends no heartbeat for this long. */
  sessionTimeoutMs?: number;
  /** Default 3 000 (a tenth of the session timeout, rounded). */
  heartbeatIntervalMs?: number;
  /** Default 60 000: how long the broker waits for every member to rejoin. */
  rebalanceTimeoutMs?: number;
  /** Default 4. */
  partitionsConsumedConcurrently?: number;
  /** Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Default 8 MiB. */
  maxBytes?: number;
  /** Default 1. */
  minBytes?: number;
  /** Default 200. Also bounds how late a resume or seek takes effect. */
  maxWaitTimeMs?: number;
}

/** An offset to commit: `offset` is the NEXT offset to read, as in Kafka's own commit semantics. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

export interface GroupConsumer {
  /** Connects, joins the group, and starts fetching. Resolves after the first join. */
  start(): Promise<void>;
  /** Revokes everything owned (onRevoked), leaves the group and disconnects. */
  stop(): Promise<void>;
  /** Stops delivery at once (a batch already fetched is dropped, and fetched again after resume). */
  pause(tps: TopicPartition[]): void;
  resume(tps: TopicPartition[]): void;
  /** Stops fetching, but still delivers what was fetched: input alignment (runtime/kafka-alignment.ts). */
  hold(tps: TopicPartition[]): void;
  release(tps: TopicPartition[]): void;
  /** Commits group offsets (progress/lag reporting only; positions come from the engine's checkpoints). */
  commitOffsets(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Partitions owned in the current generation (ready or not). */
  assignment(): TopicPartition[];
  /** highWatermark - position per owned partition whose position and high watermark are known. */
  lag(): Map<PartitionKey, number>;
}

/** A record to produce; the public sink API's type (engine/contracts/sinks.ts), so sinks can hand records to the engine's producers. */
export type ProducerRecord = KafkaOutputRecord;

export interface ProducerOptions {
  /** acks=-1, one request in flight, a broker producer id: records in order per partition. Default false. (The client resends nothing to deduplicate: producer.ts.) */
  idempotent?: boolean;
  /** Makes every flushed batch one Kafka transaction. Implies idempotent. */
  transactionalId?: string;
  /**
   * Let the client retry a failed produce itself (up to `retry.retries` of the
   * config, default 8). Default false: the delivery policy is the only retry
   * loop of sinks and changelogs. Only for producers outside the delivery path
   * (restore progress).
   */
  kafkaRetries?: boolean;
}

/**
 * Records made only as their request is built, one request's worth at a
 * time: a checkpoint's changelog waits for its transaction as its packs
 * (about 100 B a record) rather than as a record object with two Buffer
 * views each (about 250 B of heap, kept alive for seconds, so promoted and
 * collected by the old generation's collector).
 */
export interface LazyRecords {
  /** Estimated wire bytes of all the records (as estimateRecordBytes), for grouping sends. */
  readonly bytes: number;
  /** The records, in order. Iterated once per attempt to send them. */
  records(): Iterable<ProducerRecord>;
}

export interface Producer {
  connect(): Promise<void>;
  /** Resolves when the broker has acknowledged the records (acks=-1). Concurrent sends are coalesced. */
  send(records: ProducerRecord[] | LazyRecords): Promise<void>;
  /** Resolves when every send issued so far has settled. */
  flush(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocol: string;
  members: Array<{ memberId: string; clientId: string; clientHost: string; assignment: TopicPartition[] }>;
}

export interface Admin {
  /** undefined when the topic does not exist (the lookup never auto-creates it). */
  partitionCount(topic: string): Promise<number | undefined>;
  /**
   * Creates the topic unless it exists, then waits until every partition has
   * a leader that serves it (up to `readyTimeoutMs`, else a retryable
   * TIMEOUT). Resolves true if this call's request created it (a timed-out
   * request that the broker carried out anyway reads as false). Throws
   * PARTITION_MISMATCH only if it exists with another partition count.
   */
  ensureTopic(
    name: string,
    partitions: number,
    configs?: Record<string, string>,
    options?: { replicationFactor?: number; readyTimeoutMs?: number },
  ): Promise<boolean>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  /** Committed next offsets of a group for one topic; partitions without a commit are absent. */
  fetchCommittedOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  /** High watermark per partition. */
  topicEndOffsets(topic: string): Promise<Map<number, number>>;
  /** Per partition, the first offset still held (log start) and the high watermark. */
  topicOffsetRange(topic: string): Promise<Map<number, { low: number; high: number }>>;
  /** The cluster's id: the same brokers' address can front another cluster. */
  clusterId(): Promise<string>;
  /** Deletes the whole group (offsets included). The group must have no live members. */
  deleteGroupOffsets(groupId: string): Promise<void>;
  /** Every topic name in the cluster. */
  listTopics(): Promise<string[]>;
  /** Deletes topics (and their data). */
  deleteTopics(names: readonly string[]): Promise<void>;
  /** Sets the group's committed offsets for a topic to earliest or latest. The group must have no live members. */
  resetGroup(groupId: string, topic: string, to?: 'earliest' | 'latest'): Promise<void>;
  close(): Promise<void>;
}
