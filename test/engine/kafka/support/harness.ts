/**
 * Shared by test/integration/kafka-client-*.test.ts (lives here because this
 * directory is the Kafka client's own; it is not a test file itself).
 *
 * A `ConsumerProbe` plays the engine: it keeps a per-partition position the way
 * the engine's checkpoints would (set by onAssigned, advanced by onBatch, saved
 * into a shared checkpoint map by onRevoked) and records every violation of the
 * consumer's contract it can see, so tests assert on `violations` being empty.
 */
import { kafkaBrokers, registerCleanup, uniqueName } from '../../../helpers/kafka.ts';
import { createGroupConsumer } from '../../../../engine/kafka/consumer.ts';
import { createProducer } from '../../../../engine/kafka/producer.ts';
import { keyOf, tpKey } from '../../../../engine/kafka/partitions.ts';
import type {
  GroupConsumer,
  GroupConsumerEvent,
  GroupConsumerOptions,
  KafkaBatch,
  KafkaClientConfig,
  Producer,
  TopicPartition,
} from '../../../../engine/kafka/types.ts';

export function clientConfig(name: string): KafkaClientConfig {
  return { brokers: kafkaBrokers(), clientId: uniqueName(name), connectionTimeoutMs: 5_000 };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every 20 ms; rejects with `what()` after timeoutMs. */
export async function waitFor(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(20);
  }
}

export async function connectedProducer(name: string, options: { idempotent?: boolean; transactionalId?: string } = {}): Promise<Producer> {
  const producer = createProducer(clientConfig(name), options);
  await producer.connect();
  registerCleanup(() => producer.disconnect());
  return producer;
}

/** Produces `perPartition` records to each partition; value = `${partition}:${i}`. */
export async function producePerPartition(producer: Producer, topic: string, partitions: number, perPartition: number): Promise<void> {
  const records = [];
  for (let i = 0; i < perPartition; i++) {
    for (let p = 0; p < partitions; p++) records.push({ topic, partition: p, key: null, value: `${p}:${i}` });
  }
  await producer.send(records);
}

/**
 * Keeps producing `burst` records round-robin over the partitions every
 * `everyMs` until stop() is called; stop resolves once everything sent is acked.
 */
export function backgroundProducer(producer: Producer, topic: string, partitions: number, burst = 8, everyMs = 25) {
  let running = true;
  let sent = 0;
  let failure: unknown;
  const loop = (async () => {
    while (running) {
      const records = Array.from({ length: burst }, (_, i) => ({
        topic,
        partition: (sent + i) % partitions,
        key: null,
        value: `bg-${sent + i}`,
      }));
      try {
        await producer.send(records);
      } catch (err) {
        // Kept for failure(): a rejection here must not surface as an unhandled one.
        failure = err;
        return;
      }
      sent += burst;
      await sleep(everyMs);
    }
  })();
  return {
    sent: () => sent,
    /** A send that failed while producing (the loop stops at the first). */
    failure: () => failure,
    /** Stops producing; never throws, so it is safe in cleanups that may run after the topic is gone. */
    async stop() {
      running = false;
      await loop;
      await producer.flush();
    },
  };
}

export interface ProbeOptions {
  /** Offset onAssigned returns; default: the shared checkpoint, else 0. */
  offsetFor?(key: string): number;
  assignDelayMs?: number;
  /** How long onRevoked "checkpoints" before it records the positions. */
  revokeDelayMs?: number;
  onBatch?(batch: KafkaBatch, probe: ConsumerProbe): void;
  consumer?: Partial<Omit<GroupConsumerOptions, 'groupId' | 'topics' | 'handlers'>>;
}

export class ConsumerProbe {
  readonly consumer: GroupConsumer;
  readonly events: GroupConsumerEvent[] = [];
  readonly violations: string[] = [];
  readonly errors: Error[] = [];
  /** Every offset delivered to this consumer, per partition key, in delivery order. */
  readonly delivered = new Map<string, number[]>();
  readonly assignedCalls: TopicPartition[][] = [];
  readonly revokedCalls: TopicPartition[][] = [];
  /** Partitions between onAssigned (resolved) and onRevoked, with the next expected offset (-1: not known yet). */
  readonly active = new Map<string, number>();
  /** Time each onAssigned resolved, per key (latest). */
  readonly readyAt = new Map<string, number>();
  count = 0;

  constructor(
    readonly name: string,
    topic: string,
    groupId: string,
    /** Shared across probes of one group: next offset per partition, written on revoke. */
    readonly checkpoints: Map<string, number>,
    private readonly options: ProbeOptions = {},
  ) {
    this.consumer = createGroupConsumer(clientConfig(name), {
      groupId,
      topics: [topic],
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
      ...options.consumer,
      handlers: {
        onAssigned: (tps) => this.onAssigned(tps),
        onRevoked: (tps) => this.onRevoked(tps),
        onBatch: (batch) => this.onBatch(batch),
        onError: (err) => this.errors.push(err),
        onEvent: (event) => this.events.push(event),
      },
    });
  }

  async start(): Promise<this> {
    registerCleanup(() => this.consumer.stop());
    await this.consumer.start();
    return this;
  }

  private async onAssigned(tps: TopicPartition[]): Promise<Map<string, number>> {
    this.assignedCalls.push(tps);
    if (this.options.assignDelayMs) await sleep(this.options.assignDelayMs);
    const out = new Map<string, number>();
    for (const tp of tps) {
      const key = keyOf(tp);
      if (this.active.has(key)) this.violations.push(`${this.name}: ${key} assigned twice without a revoke`);
      const offset = this.options.offsetFor?.(key) ?? this.checkpoints.get(key) ?? 0;
      out.set(key, offset);
      this.active.set(key, offset);
      this.readyAt.set(key, Date.now());
    }
    return out;
  }

  private async onRevoked(tps: TopicPartition[]): Promise<void> {
    this.revokedCalls.push(tps);
    if (this.options.revokeDelayMs) await sleep(this.options.revokeDelayMs);
    for (const tp of tps) {
      const key = keyOf(tp);
      const next = this.active.get(key);
      if (next === undefined) {
        this.violations.push(`${this.name}: ${key} revoked but not assigned`);
        continue;
      }
      // The engine's checkpoint: the next offset after everything it received.
      this.checkpoints.set(key, next);
      this.active.delete(key);
    }
  }

  private onBatch(batch: KafkaBatch): void {
    const key = tpKey(batch.topic, batch.partition);
    let expected = this.active.get(key);
    // -1 from onAssigned means "committed or earliest": the first batch tells where that is.
    if (expected !== undefined && expected < 0) expected = batch.records[0].offset;
    if (expected === undefined) {
      this.violations.push(`${this.name}: batch for ${key} which is not assigned (offsets ${batch.records[0]?.offset}..)`);
    } else if (batch.records[0].offset !== expected) {
      this.violations.push(`${this.name}: ${key} batch starts at ${batch.records[0].offset}, expected ${expected}`);
    }
    let list = this.delivered.get(key);
    if (!list) this.delivered.set(key, (list = []));
    let prev = expected === undefined ? -1 : expected - 1;
    for (const r of batch.records) {
      if (r.offset !== prev + 1) this.violations.push(`${this.name}: ${key} offset ${r.offset} after ${prev}`);
      prev = r.offset;
      list.push(r.offset);
    }
    this.count += batch.records.length;
    if (expected !== undefined) this.active.set(key, prev + 1);
    this.options.onBatch?.(batch, this);
  }

  eventsOf<T extends GroupConsumerEvent['type']>(type: T): Array<Extract<GroupConsumerEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<GroupConsumerEvent, { type: T }> => e.type === type);
  }
}

/** All offsets of a partition delivered across probes, sorted. */
export function unionOf(probes: ConsumerProbe[], key: string): number[] {
  return probes.flatMap((p) => p.delivered.get(key) ?? []).sort((a, b) => a - b);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
