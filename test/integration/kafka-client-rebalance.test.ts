/**
 * Rebalance hand-off between two members of one group while a producer keeps
 * writing: A owns all four partitions, B joins and takes two, B leaves and A
 * takes them back. Positions travel only through the checkpoints the members
 * write in onRevoked and read in onAssigned, as the engine's LMDB checkpoints
 * would; the union of what A and B received must be every record exactly once.
 */
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { keyOf } from '../../engine/kafka/partitions.ts';
import { createTopic, registerCleanup, uniqueName } from '../helpers/kafka.ts';
import {
  backgroundProducer,
  clientConfig,
  ConsumerProbe,
  connectedProducer,
  range,
  sleep,
  unionOf,
  waitFor,
} from '../engine/kafka/support/harness.ts';

const PARTITIONS = 4;

describe('kafka client: rebalance', () => {
  // Quick: the usual case. 3 s: a slow checkpoint, which another member must not overtake.
  // 8 s with a 6 s session timeout: only the keepalive heartbeats sent while
  // the rejoin waits keep A in the group (without them B ends up with all four).
  it.each([
    { label: 'quick onRevoked', revokeDelayMs: 0, sessionTimeoutMs: 10_000 },
    { label: 'onRevoked 3 s', revokeDelayMs: 3_000, sessionTimeoutMs: 10_000 },
    { label: 'onRevoked 8 s, session timeout 6 s', revokeDelayMs: 8_000, sessionTimeoutMs: 6_000 },
  ])(
    'revokes before another member is assigned, and loses or repeats nothing across join and leave ($label)',
    async ({ revokeDelayMs, sessionTimeoutMs }) => {
      const topic = await createTopic('rebalance', PARTITIONS);
      const groupId = uniqueName('rebalance-group');
      const checkpoints = new Map<string, number>();
      const producer = backgroundProducer(await connectedProducer('rebalance-producer'), topic, PARTITIONS);
      registerCleanup(() => producer.stop());

      const a = await new ConsumerProbe('A', topic, groupId, checkpoints, { revokeDelayMs, consumer: { sessionTimeoutMs } }).start();
      await waitFor(() => a.active.size === PARTITIONS && a.count > 50, 30_000, () => `A active ${a.active.size}, got ${a.count}`);

      // B joins. A must have revoked (and written its checkpoints) before B's onAssigned reads them.
      const revokedBeforeB = new Set<string>();
      const b = new ConsumerProbe('B', topic, groupId, checkpoints, {
        revokeDelayMs,
        consumer: { sessionTimeoutMs },
        offsetFor: (key) => {
          if (!revokedBeforeB.has(key) && a.revokedCalls.flat().some((tp) => keyOf(tp) === key)) revokedBeforeB.add(key);
          return checkpoints.get(key) ?? 0;
        },
      });
      await b.start();
      await waitFor(
        () => b.active.size === 2 && a.active.size === 2,
        30_000,
        () => `A active ${[...a.active.keys()]}, B active ${[...b.active.keys()]}`,
      );
      const bKeys = [...b.active.keys()].sort();
      const aKeys = [...a.active.keys()].sort();
      expect(new Set([...aKeys, ...bKeys]).size).toBe(PARTITIONS);
      // Eager protocol: A revokes everything it owned, then gets its share back.
      const aRevokedFirst = a.revokedCalls[0].map(keyOf);
      for (const key of bKeys) expect(aRevokedFirst).toContain(key);
      expect([...revokedBeforeB].sort()).toEqual(bKeys);

      // Both receive records while they share the topic.
      const aBefore = a.count;
      const bBefore = b.count;
      await waitFor(() => a.count > aBefore + 20 && b.count > bBefore + 20, 30_000, () => `A ${a.count - aBefore}, B ${b.count - bBefore}`);

      // B leaves; A gets B's partitions back, starting where B stopped.
      await b.consumer.stop();
      expect(b.revokedCalls.at(-1)!.map(keyOf).sort()).toEqual(bKeys);
      await waitFor(() => a.active.size === PARTITIONS, 30_000, () => `A active ${[...a.active.keys()]}`);
      const aAfter = a.count;
      await waitFor(() => a.count > aAfter + 50, 30_000, () => `A got ${a.count - aAfter} after B left`);

      await producer.stop();
    expect(producer.failure()).toBeUndefined();
      const admin = createAdmin(clientConfig('rebalance-admin'));
      registerCleanup(() => admin.close());
      const ends = await admin.topicEndOffsets(topic);
      const total = [...ends.values()].reduce((s, n) => s + n, 0);
      expect(total).toBe(producer.sent());
      await waitFor(() => a.count + b.count >= total, 30_000, () => `delivered ${a.count + b.count} of ${total}`);
      await sleep(1_000);

      expect(a.violations).toEqual([]);
      expect(b.violations).toEqual([]);
      expect([...a.errors, ...b.errors]).toEqual([]);
      for (let p = 0; p < PARTITIONS; p++) {
        const key = `${topic}:${p}`;
        expect(unionOf([a, b], key), key).toEqual(range(0, ends.get(p)!));
      }
      expect(a.count + b.count).toBe(total);
      // Two rebalances after the first join: one generation each for join and leave.
      expect(a.eventsOf('group-join')).toHaveLength(3);
      expect(b.eventsOf('group-join')).toHaveLength(1);
    },
  );
});
