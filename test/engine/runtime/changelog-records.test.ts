/**
 * ChangelogRecords: an epoch's changelog made into Kafka records only as the
 * producer builds each request. The records must be the ones the changelog
 * always sent (topics, partition, keys and values byte for byte, in order),
 * again on a retry, and be made a request at a time.
 */
import { describe, it, expect } from 'vitest';
import type { SinkRecord } from '../../../engine/contracts/sinks.ts';
import { ChangelogPacker, type ChangelogPack } from '../../../engine/runtime/changelog-pack.ts';
import { ChangelogRecords } from '../../../engine/runtime/changelog-records.ts';
import { changelogTopic, checkpointTopic, encodeChangelogKey, type ChangelogMarker } from '../../../engine/runtime/changelog.ts';
import { eachChunk, estimateRecordBytes } from '../../../engine/kafka/produce-batches.ts';
import type { ProducerRecord } from '../../../engine/kafka/types.ts';

const topics = { changes: (op: string) => changelogTopic('job', op), markers: checkpointTopic('job') };
const marker: ChangelogMarker = { token: 't-3', epoch: 3, positions: { 'orders:1': 7 }, at: 0 };

function entries(changes: number): { records: SinkRecord[]; expected: ProducerRecord[] } {
  const records: SinkRecord[] = [{ id: 'm', key: null, value: { m: marker }, time: 0 }];
  const expected: ProducerRecord[] = [{ topic: 'job-checkpoints', partition: 1, key: 'p1', value: JSON.stringify(marker) }];
  const packer = new ChangelogPacker(records);
  for (let i = 0; i < changes; i++) {
    const op = i % 3 === 0 ? 'join' : 'dedupe';
    const key = ['p1', op, 'v', `order-${i}`];
    const value = i % 5 === 0 ? null : Buffer.from(`value-${i}-${'x'.repeat(i % 40)}`);
    packer.add('state', key as never, value);
    expected.push({ topic: `job-${op}-changelog`, partition: 1, key: encodeChangelogKey('state', key as never), value });
  }
  packer.finish();
  return { records, expected };
}

const plain = (r: ProducerRecord): unknown => ({ ...r, key: Buffer.isBuffer(r.key) ? [...r.key] : r.key, value: Buffer.isBuffer(r.value) ? [...r.value] : r.value });

describe('ChangelogRecords', () => {
  it('makes the records the changelog sends, in order, and the same again on a retry', () => {
    const { records, expected } = entries(5000);
    expect(records.filter((r) => 'p' in (r.value as object)).length).toBeGreaterThan(1);
    const lazy = new ChangelogRecords(records, 1, topics);
    const first = [...lazy.records()];
    expect(first.map(plain)).toEqual(expected.map(plain));
    expect([...lazy.records()].map(plain)).toEqual(expected.map(plain));
    // The estimate groups sends: near the records' own estimate.
    const exact = expected.reduce((n, r) => n + estimateRecordBytes(r), 0);
    expect(lazy.bytes).toBeGreaterThan(exact * 0.8);
    expect(lazy.bytes).toBeLessThan(exact * 1.3);
  });

  it('is made a request at a time', () => {
    const { records } = entries(20_000);
    const lazy = new ChangelogRecords(records, 1, topics);
    let made = 0;
    const counted = (function* () {
      for (const r of lazy.records()) {
        made++;
        yield r;
      }
    })();
    const chunks = eachChunk(counted, 64 * 1024);
    const first = chunks.next().value as ProducerRecord[];
    // At most the first request and one pack beyond it exist.
    const pack = (records[1].value as ChangelogPack).n;
    expect(made).toBeLessThanOrEqual(first.length + pack);
    let total = first.length;
    for (const c of chunks) total += c.length;
    expect(total).toBe(20_001);
  });
});
