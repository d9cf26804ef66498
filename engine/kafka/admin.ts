/**
 * Topic and group administration the engine needs: plan partition counts,
 * create (compacted) changelog topics, read group progress, reset groups.
 * Connects lazily on first use; every call is safe to repeat.
 */
import './kafkajs-fast-decode.ts'; // before kafkajs loads (see there)
import './kafkajs-linear-grouping.ts'; // before kafkajs loads (see there)
import { type Admin as KafkaJsAdmin, AssignerProtocol } from 'kafkajs';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { createKafka, toKafkaError } from './client.ts';
import { fromAssignment } from './partitions.ts';
import type { Admin, GroupDescription, KafkaClientConfig, TopicPartition } from './types.ts';

/** The `type` of a kafkajs protocol error, looking through retry wrappers (cause chains). */
export function errorType(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const t = (e as { type?: unknown }).type;
    if (typeof t === 'string') return t;
    e = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** How long ensureTopic waits for a topic's partitions to be led and served. */
export const DEFAULT_TOPIC_READY_TIMEOUT_MS = 30_000;

/** Broker answers that mean "not yet", seen right after a topic is created (by anyone). */
const READINESS_RETRYABLE = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createAdmin(cfg: KafkaClientConfig): Admin {
  const kafka = createKafka(cfg, 'admin');
  const admin: KafkaJsAdmin = kafka.admin();
  let connecting: Promise<void> | null = null;
  const readyTimeoutMs = cfg.topicReadyTimeoutMs ?? (Number(process.env.SLUICE_TOPIC_READY_TIMEOUT_MS) || DEFAULT_TOPIC_READY_TIMEOUT_MS);

  function ready(): Promise<void> {
    connecting ??= admin.connect().catch((err: unknown) => {
      connecting = null;
      throw toKafkaError(err, 'admin failed to connect');
    });
    return connecting;
  }

  /**
   * Metadata races right after a topic is created (by us or by another
   * process starting at the same moment) answer UNKNOWN_TOPIC_OR_PARTITION,
   * NOT_LEADER_FOR_PARTITION or LEADER_NOT_AVAILABLE for a moment: retried
   * with backoff for up to the topic-ready timeout.
   */
  async function call<T>(context: string, fn: () => Promise<T>): Promise<T> {
    await ready();
    const deadline = Date.now() + readyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!READINESS_RETRYABLE.has(errorType(err) ?? '') || Date.now() >= deadline) throw toKafkaError(err, context);
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  async function partitionCount(topic: string): Promise<number | undefined> {
    await ready();
    try {
      // The admin client never asks the broker to auto-create (kafkajs sets allowAutoTopicCreation false for it).
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const t = topics.find((x) => x.name === topic);
      return t ? t.partitions.length : undefined;
    } catch (err) {
      if (errorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
      throw toKafkaError(err, `partitionCount(${topic})`);
    }
  }

  /**
   * Where a topic stands: ready only when the metadata lists every partition
   * with a leader AND each leader answers a ListOffsets for it. Right after a
   * creation (ours or a concurrent one) the metadata can list no partitions
   * yet, a partition can lack a leader, and a leader can still answer "This
   * server does not host this topic-partition": all of those are "not ready".
   */
  async function topicState(
    topic: string,
    expected: number,
  ): Promise<{ kind: 'ready' } | { kind: 'missing' } | { kind: 'mismatch'; actual: number } | { kind: 'not-ready'; reason: string }> {
    let meta;
    try {
      // The admin client never asks the broker to auto-create (kafkajs sets allowAutoTopicCreation false for it).
      meta = (await admin.fetchTopicMetadata({ topics: [topic] })).topics.find((x) => x.name === topic);
    } catch (err) {
      if (errorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION') return { kind: 'missing' };
      throw err;
    }
    if (!meta) return { kind: 'missing' };
    if (meta.partitions.length === 0) return { kind: 'not-ready', reason: 'no partitions in the metadata yet' };
    if (meta.partitions.length !== expected) return { kind: 'mismatch', actual: meta.partitions.length };
    const leaderless = meta.partitions.filter((p) => p.leader < 0 || p.partitionErrorCode !== 0);
    if (leaderless.length > 0) return { kind: 'not-ready', reason: `${leaderless.length} of ${expected} partitions have no leader yet` };
    await admin.fetchTopicOffsets(topic);
    return { kind: 'ready' };
  }

  /** Without an explicit factor: as many replicas as brokers, at most 3 (the usual production setting). */
  async function defaultReplicationFactor(): Promise<number> {
    const { brokers } = await admin.describeCluster();
    return Math.max(1, Math.min(3, brokers.length));
  }

  return {
    partitionCount,

    async ensureTopic(name, partitions, configs = {}, options = {}) {
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new SluiceError(ErrorCodes.CONFIG, `ensureTopic(${name}): partitions must be a positive integer`);
      }
      const timeoutMs = options.readyTimeoutMs ?? readyTimeoutMs;
      const deadline = Date.now() + timeoutMs;
      let created = false;
      let lastReason = 'not checked yet';
      for (let attempt = 0; ; attempt++) {
        await ready();
        const state = await topicState(name, partitions).catch((err: unknown) => {
          if (!READINESS_RETRYABLE.has(errorType(err) ?? '')) throw toKafkaError(err, `ensureTopic(${name})`);
          return { kind: 'not-ready', reason: errorType(err) ?? 'unknown' } as const;
        });
        if (state.kind === 'ready') return created;
        if (state.kind === 'mismatch') {
          throw new SluiceError(ErrorCodes.PARTITION_MISMATCH, `topic ${name} exists with ${state.actual} partitions, expected ${partitions}`);
        }
        if (state.kind === 'missing') {
          // false (not an error) on TOPIC_ALREADY_EXISTS: a concurrent creator, in this
          // process or another, won the race; either way the loop then waits for it.
          const made = await admin
            .createTopics({
              topics: [
                {
                  topic: name,
                  numPartitions: partitions,
                  replicationFactor: options.replicationFactor ?? (await defaultReplicationFactor()),
                  configEntries: Object.entries(configs).map(([k, v]) => ({ name: k, value: String(v) })),
                },
              ],
            })
            .catch((err: unknown) => {
              if (!READINESS_RETRYABLE.has(errorType(err) ?? '')) throw toKafkaError(err, `ensureTopic(${name})`);
              return false;
            });
          created ||= made;
          lastReason = made ? 'created, waiting for its partitions' : 'being created by another client';
        } else {
          lastReason = state.reason;
        }
        if (Date.now() >= deadline) {
          throw new SluiceError(ErrorCodes.TIMEOUT, `topic ${name} was not ready within ${(timeoutMs / 1000).toFixed(0)} s (${lastReason}); raise topicReadyTimeoutMs if the broker is slow`, {
            retryable: true,
          });
        }
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)));
      }
    },

    async describeGroup(groupId): Promise<GroupDescription> {
      const { groups } = await call(`describeGroup(${groupId})`, () => admin.describeGroups([groupId]));
      const g = groups.find((x) => x.groupId === groupId);
      if (!g) return { groupId, state: 'Dead', protocol: '', members: [] };
      return {
        groupId,
        state: g.state,
        protocol: g.protocol,
        members: g.members.map((m) => {
          let assignment: TopicPartition[] = [];
          try {
            const decoded = m.memberAssignment?.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
            if (decoded) assignment = fromAssignment(decoded.assignment);
          } catch {
            // A non-consumer protocol (e.g. Connect) uses its own assignment format.
          }
          return { memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, assignment };
        }),
      };
    },

    async fetchCommittedOffsets(groupId, topic) {
      const res = await call(`fetchCommittedOffsets(${groupId}, ${topic})`, () =>
        admin.fetchOffsets({ groupId, topics: [topic] }),
      );
      const out = new Map<number, number>();
      for (const t of res) {
        if (t.topic !== topic) continue;
        for (const p of t.partitions) {
          const offset = Number(p.offset);
          if (offset >= 0) out.set(p.partition, offset);
        }
      }
      return out;
    },

    async topicEndOffsets(topic) {
      const res = await call(`topicEndOffsets(${topic})`, () => admin.fetchTopicOffsets(topic));
      return new Map(res.map((p) => [p.partition, Number(p.high)]));
    },

    async topicOffsetRange(topic) {
      const res = await call(`topicOffsetRange(${topic})`, () => admin.fetchTopicOffsets(topic));
      return new Map(res.map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }]));
    },

    async clusterId() {
      const c = await call('describeCluster', () => admin.describeCluster());
      return c.clusterId;
    },

    async deleteGroupOffsets(groupId) {
      await ready();
      try {
        await admin.deleteGroups([groupId]);
      } catch (err) {
        const groups = (err as { groups?: Array<{ error?: { type?: string } }> }).groups;
        const notFound = errorType(err) === 'GROUP_ID_NOT_FOUND' || groups?.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND');
        if (!notFound) throw toKafkaError(err, `deleteGroupOffsets(${groupId})`);
      }
    },

    async resetGroup(groupId, topic, to = 'earliest') {
      // Concrete offsets rather than kafkajs' resetOffsets, which commits the -1/-2 sentinels.
      const offsets = await call(`resetGroup(${groupId}, ${topic})`, () => admin.fetchTopicOffsets(topic));
      const partitions = offsets.map((p) => ({ partition: p.partition, offset: to === 'earliest' ? p.low : p.high }));
      await call(`resetGroup(${groupId}, ${topic})`, () => admin.setOffsets({ groupId, topic, partitions }));
    },

    async listTopics() {
      return call('listTopics', () => admin.listTopics());
    },

    async deleteTopics(names) {
      if (names.length === 0) return;
      await call(`deleteTopics(${names.join(', ')})`, () => admin.deleteTopics({ topics: [...names], timeout: 30_000 }));
    },

    async close() {
      if (!connecting) return;
      connecting = null;
      try {
        await admin.disconnect();
      } catch (err) {
        throw toKafkaError(err, 'admin failed to disconnect');
      }
    },
  };
}
