/**
 * Producer and admin against the real broker: idempotent and transactional
 * sends, coalescing under concurrency, compacted topic creation, group
 * offsets and resets.
 */
import { spawn } from 'node:child_process';
// The engine's kafkajs patches before kafkajs itself: integration files share kafkajs's module cache (test/helpers/kafka.ts).
import '../../engine/kafka/kafkajs-fast-decode.ts';
import '../../engine/kafka/kafkajs-linear-grouping.ts';
import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { createProducer } from '../../engine/kafka/producer.ts';
import { readPartitions } from '../../engine/kafka/partition-reader.ts';
import { ErrorCodes, SluiceError } from '../../engine/errors.ts';
import { isFenced } from '../../engine/kafka/client.ts';
import { createTopic, registerCleanup, uniqueName } from '../helpers/kafka.ts';
import { clientConfig, ConsumerProbe, connectedProducer, range, sleep, waitFor } from '../engine/kafka/support/harness.ts';
import type { Admin, KafkaBatch } from '../../engine/kafka/types.ts';

function admin(): Admin {
  const a = createAdmin(clientConfig('admin-test'));
  registerCleanup(() => a.close());
  return a;
}

function rawAdmin() {
  const a = new Kafka({ brokers: clientConfig('x').brokers, clientId: 'raw-admin', logCreator: () => () => {} }).admin();
  registerCleanup(() => a.disconnect());
  return a;
}

describe('kafka client: admin', () => {
  it('ensureTopic creates a compacted topic once, and partitionCount reads it without auto-creating anything', async () => {
    const a = admin();
    const name = uniqueName('changelog');
    registerCleanup(async () => {
      const raw = rawAdmin();
      await raw.connect();
      await raw.deleteTopics({ topics: [name] });
    });
    // The test broker auto-creates topics on metadata requests; the admin must not trigger that.
    expect(await a.partitionCount(name)).toBeUndefined();
    expect(await a.partitionCount(name)).toBeUndefined();

    expect(await a.ensureTopic(name, 6, { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1' })).toBe(true);
    expect(await a.ensureTopic(name, 6, { 'cleanup.policy': 'compact' })).toBe(false);
    expect(await a.partitionCount(name)).toBe(6);
    await expect(a.ensureTopic(name, 8)).rejects.toMatchObject({ code: ErrorCodes.PARTITION_MISMATCH });

    const raw = rawAdmin();
    await raw.connect();
    const { resources } = await raw.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* TOPIC */, name, configNames: ['cleanup.policy', 'min.cleanable.dirty.ratio'] }],
    });
    const configs = Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    expect(configs).toEqual({ 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1' });
  });

  it('ensureTopic tolerates concurrent creators, in one process and in several, and the topic is usable at once', async () => {
    const name = uniqueName('race');
    registerCleanup(async () => {
      const raw = rawAdmin();
      await raw.connect();
      await raw.deleteTopics({ topics: [name] });
    });
    // Four clients here and two other processes race to create the same topic.
    const clients = ['a', 'b', 'c', 'd'].map((id) => {
      const c = createAdmin(clientConfig(`admin-race-${id}`));
      registerCleanup(() => c.close());
      return c;
    });
    const script = `
      import { createAdmin } from ${JSON.stringify(new URL('../../engine/kafka/admin.ts', import.meta.url).href)};
      const a = createAdmin({ brokers: process.env.BROKERS.split(','), clientId: 'race-child' });
      const created = await a.ensureTopic(process.env.TOPIC, 3);
      await a.close();
      console.log(JSON.stringify({ created }));`;
    const child = () =>
      new Promise<boolean>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          env: { ...process.env, BROKERS: clientConfig('x').brokers.join(','), TOPIC: name },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out.trim().split('\n').pop()!) as { created: boolean }).created) : reject(new Error(`child exited ${code}: ${out}`))));
      });
    const results = await Promise.all([...clients.map((c) => c.ensureTopic(name, 3)), child(), child()]);
    expect(results.filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(await clients[0].partitionCount(name)).toBe(3);
    // Ready means served: a send to every partition succeeds right away (no
    // "This server does not host this topic-partition").
    const producer = await connectedProducer('race-producer');
    await producer.send(range(0, 3).map((p) => ({ topic: name, partition: p, key: null, value: `v${p}` })));
    // Only a real difference in partition count is an error.
    const mismatch = await clients[1].ensureTopic(name, 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(mismatch).toBeInstanceOf(SluiceError);
    expect((mismatch as SluiceError).code).toBe(ErrorCodes.PARTITION_MISMATCH);
    expect((mismatch as Error).message).toContain('exists with 3 partitions, expected 5');
  });

  it('reads end offsets and committed offsets, resets and deletes a group, describes members', async () => {
    const topic = await createTopic('admin-group', 2);
    const producer = await connectedProducer('admin-group-producer');
    await producer.send(range(0, 30).map((i) => ({ topic, partition: i % 2, key: null, value: String(i) })));
    const a = admin();
    expect([...(await a.topicEndOffsets(topic))].sort()).toEqual([
      [0, 15],
      [1, 15],
    ]);

    const groupId = uniqueName('admin-group');
    const probe = await new ConsumerProbe('admin-group', topic, groupId, new Map()).start();
    await waitFor(() => probe.count === 30, 30_000, () => `got ${probe.count}`);
    await probe.consumer.commitOffsets([
      { topic, partition: 0, offset: 15 },
      { topic, partition: 1, offset: 7 },
    ]);
    expect([...(await a.fetchCommittedOffsets(groupId, topic))].sort()).toEqual([
      [0, 15],
      [1, 7],
    ]);
    const described = await a.describeGroup(groupId);
    expect(described.state).toBe('Stable');
    expect(described.members).toHaveLength(1);
    expect(described.members[0].assignment).toEqual([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    await probe.consumer.stop();

    await a.resetGroup(groupId, topic, 'earliest');
    expect([...(await a.fetchCommittedOffsets(groupId, topic))].sort()).toEqual([
      [0, 0],
      [1, 0],
    ]);
    await a.resetGroup(groupId, topic, 'latest');
    expect([...(await a.fetchCommittedOffsets(groupId, topic))].sort()).toEqual([
      [0, 15],
      [1, 15],
    ]);
    await a.deleteGroupOffsets(groupId);
    expect((await a.fetchCommittedOffsets(groupId, topic)).size).toBe(0);
    expect((await a.describeGroup(groupId)).state).toBe('Dead');
    await a.deleteGroupOffsets(groupId); // idempotent
  });
});

describe('kafka client: producer', () => {
  it('idempotent producer: concurrent sends are coalesced, each record lands once, per-key order holds', async () => {
    const topic = await createTopic('idempotent', 4);
    const producer = await connectedProducer('idempotent-producer', { idempotent: true });
    const KEYS = 20;
    const PER_KEY = 100;
    // 2,000 single-record sends issued at once, plus one large send that must be split into several requests.
    const sends: Promise<void>[] = [];
    for (let i = 0; i < KEYS * PER_KEY; i++) {
      const key = `k${i % KEYS}`;
      sends.push(producer.send([{ topic, key, value: `${key}:${Math.floor(i / KEYS)}`, headers: { n: String(i) } }]));
    }
    const big = range(0, 3_000).map((i) => ({ topic, key: 'big', value: `big:${i}:${'x'.repeat(500)}` }));
    sends.push(producer.send(big));
    await Promise.all(sends);
    await producer.flush();

    const a = admin();
    const ends = await a.topicEndOffsets(topic);
    expect([...ends.values()].reduce((s, n) => s + n, 0)).toBe(KEYS * PER_KEY + big.length);

    const seen = new Map<string, number[]>();
    let headersOk = true;
    const probe = await new ConsumerProbe('idempotent-consumer', topic, uniqueName('idempotent-group'), new Map(), {
      onBatch: (batch: KafkaBatch) => {
        for (const r of batch.records) {
          const [key, seq] = r.value!.toString().split(':');
          if (r.key!.toString() !== key) headersOk = false;
          if (key !== 'big' && typeof r.headers?.n === 'undefined') headersOk = false;
          let list = seen.get(key);
          if (!list) seen.set(key, (list = []));
          list.push(Number(seq));
        }
      },
    }).start();
    const total = KEYS * PER_KEY + big.length;
    await waitFor(() => probe.count >= total, 30_000, () => `got ${probe.count} of ${total}`);
    await sleep(300);
    expect(probe.count).toBe(total);
    expect(headersOk).toBe(true);
    for (let k = 0; k < KEYS; k++) expect(seen.get(`k${k}`)).toEqual(range(0, PER_KEY));
    expect(seen.get('big')).toEqual(range(0, big.length));
  });

  it('transactional producer: a send becomes visible atomically', async () => {
    const topic = await createTopic('txn', 2);
    const producer = await connectedProducer('txn-producer', { transactionalId: uniqueName('txn') });
    await Promise.all([
      producer.send([{ topic, partition: 0, key: 'a', value: '1' }, { topic, partition: 1, key: 'b', value: '2' }]),
      producer.send([{ topic, partition: 0, key: 'c', value: '3' }]),
    ]);
    const values: string[] = [];
    const probe = await new ConsumerProbe('txn-consumer', topic, uniqueName('txn-group'), new Map(), {
      onBatch: (batch) => values.push(...batch.records.map((r) => r.value!.toString())),
    }).start();
    await waitFor(() => values.length >= 3, 30_000, () => `got ${JSON.stringify(values)}`);
    expect(values.sort()).toEqual(['1', '2', '3']);
    // Transaction markers occupy offsets too; the consumer's position skips them, so lag drains to 0.
    await waitFor(
      () => [...probe.consumer.lag().values()].every((l) => l === 0) && probe.consumer.lag().size === 2,
      10_000,
      () => `lag ${JSON.stringify([...probe.consumer.lag()])}`,
    );
  });

  it('transactional producer: connect() fences an older producer of the same id and ends its open transaction', async () => {
    const topic = await createTopic('txn-fence', 1);
    const id = uniqueName('txn-fence');
    // The "crashed" owner: a transaction with a record in it, never ended.
    const old = new Kafka({ brokers: clientConfig('x').brokers, clientId: 'old-owner', logCreator: () => () => {} }).producer({
      transactionalId: id,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await old.connect();
    registerCleanup(() => old.disconnect());
    const txn = await old.transaction();
    await txn.send({ topic, messages: [{ key: 'k', value: 'from the old owner' }] });
    // Connecting the new owner is enough: before any send of its own, the old one is fenced, and
    // its transaction is aborted, so read_committed readers are not held back by it.
    await connectedProducer('new-owner', { transactionalId: id });
    await expect(txn.commit()).rejects.toThrow(/fenc|epoch/i);
    // If the transaction were still open, a read_committed reader could not get past it to the end.
    const read: string[] = [];
    await readPartitions(clientConfig('fence-reader'), [topic], 0, (_t, recs) => read.push(...recs.map((r) => r.value!.toString())), 10_000);
    expect(read).toEqual([]);
  });

  it('transactional producer: once fenced it refuses to send (not retryable) and never fences the new owner back', async () => {
    const topic = await createTopic('txn-fenced', 1);
    const id = uniqueName('txn-fenced');
    const old = await connectedProducer('fenced-old', { transactionalId: id });
    await old.send([{ topic, partition: 0, key: 'k', value: 'old 1' }]);
    const owner = await connectedProducer('fenced-new', { transactionalId: id });
    // The old owner's next transaction is refused by the broker, as fenced.
    const err = await old.send([{ topic, partition: 0, key: 'k', value: 'old 2' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect(isFenced(err)).toBe(true);
    expect((err as SluiceError).retryable).toBe(false);
    // A later send must not register the id again (a new InitProducerId would fence the owner in turn).
    await expect(old.send([{ topic, partition: 0, key: 'k', value: 'old 3' }])).rejects.toSatisfy((e: unknown) => isFenced(e));
    await owner.send([{ topic, partition: 0, key: 'k', value: 'new 1' }]);
    await owner.send([{ topic, partition: 0, key: 'k', value: 'new 2' }]);
    const read: string[] = [];
    await readPartitions(clientConfig('fenced-reader'), [topic], 0, (_t, recs) => read.push(...recs.map((r) => r.value!.toString())), 10_000);
    expect(read).toEqual(['old 1', 'new 1', 'new 2']);
  });

  it('refuses to send before connect, and reports broker errors as retryable-aware SluiceErrors', async () => {
    const producer = createProducer(clientConfig('unconnected'));
    await expect(producer.send([{ topic: 't', key: null, value: 'x' }])).rejects.toMatchObject({
      code: ErrorCodes.ILLEGAL_STATE,
    });
    // Few retries: kafkajs would otherwise retry the unknown topic's metadata for about half a minute.
    const connected = createProducer({ ...clientConfig('missing-topic-producer'), retry: { retries: 1, maxRetryTimeMs: 500 } });
    await connected.connect();
    registerCleanup(() => connected.disconnect());
    const err = await connected.send([{ topic: uniqueName('does-not-exist'), partition: 0, key: null, value: 'x' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(ErrorCodes.KAFKA);
  });
});
