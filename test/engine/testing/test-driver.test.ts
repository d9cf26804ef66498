/**
 * The test driver (sluice/testing) on a small user job, imported only from
 * the public API: records in with keys, times and partitions; the watermark
 * and processing time moved by hand; output, dead letters and state read
 * back; crashes at every checkpoint phase leave the output exactly-once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { count, defineJob, fileSink, kafkaSink, kafkaSource, KeyedProcessFunction, tumblingWindow, type Key, type OperatorContext, type Timer, type WindowResult } from '../../../api/index.ts';
import { CRASH_POINTS, TestDriver, type TestDriverOptions } from '../../../api/testing.ts';

interface Click {
  user: string;
  page: string;
  at: number;
}

/** Per user: a running count (value state), and a "quiet" row 1 s of processing time after their first click. */
class Counter extends KeyedProcessFunction<Click, string> {
  processElement(v: Click, key: Key, time: number, ctx: OperatorContext<string>): void {
    const seen = ctx.valueState<number>('seen');
    const n = (seen.get(key) ?? 0) + 1;
    if (n === 1) ctx.timers.registerProcessingTime(key, ctx.now() + 1000, 'quiet');
    seen.put(key, n);
    ctx.emit(`${v.user}#${n}@${time}`, time, key);
  }

  override onTimer(t: Timer, ctx: OperatorContext<string>): void {
    ctx.emit(`${t.key} quiet at ${ctx.now()}`, ctx.watermark(), t.key);
  }
}

const job = defineJob({
  name: 'clicks',
  settings: { windowMs: 10_000 },
  sources: {
    clicks: kafkaSource<Click>({
      topic: 'clicks',
      codec: 'json',
      timestamp: (c) => c.at,
      validate: (c) => (typeof c.user === 'string' ? undefined : 'user must be a string'),
      watermark: { maxOutOfOrdernessMs: 1000 },
    }),
  },
  // The driver stands an in-memory sink in for each: nothing here is opened.
  sinks: { counts: kafkaSink({ topic: 'counts', codec: 'json' }), windows: fileSink({ dir: 'windows' }) },
  pipeline(b, s) {
    const keyed = b.source<Click>('clicks').keyBy((c) => c.user, 'by-user');
    keyed.process(new Counter(), 'counter').to('counts');
    keyed.process(tumblingWindow({ sizeMs: s.windowMs, aggregate: count<Click>() }), 'per-window').to('windows');
  },
});

const drivers: Array<{ close(): Promise<void> }> = [];
function open(o: TestDriverOptions<{ windowMs: number }> = {}): TestDriver<{ windowMs: number }> {
  const d = new TestDriver(job, o);
  drivers.push(d);
  return d;
}

afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
});

describe('TestDriver', () => {
  it('pipes records, and the sinks hold output once a checkpoint delivers it', async () => {
    const t = open();
    t.pipe('clicks', { user: 'ann', page: '/', at: 1000 });
    t.pipe('clicks', { user: 'ann', page: '/a', at: 1500 });
    t.pipe('clicks', { user: 'bob', page: '/', at: 1200 });
    expect(t.output('counts')).toEqual([]);
    await t.checkpoint();
    expect(t.output('counts')).toEqual(['ann#1@1000', 'ann#2@1500', 'bob#1@1200']);
    expect(t.outputRecords('counts').map((r) => r.key)).toEqual(['ann', 'ann', 'bob']);
    expect(t.valueState<number>('counter', 'seen').get('ann')).toBe(2);
    expect(t.valueState<number>('counter', 'seen').get('carl')).toBeUndefined();
  });

  it('moves the watermark only when told: windows fire on advanceWatermark, late records go to the side output', async () => {
    const t = open();
    t.pipe('clicks', { user: 'ann', page: '/', at: 1000 });
    t.pipe('clicks', { user: 'ann', page: '/', at: 9000 });
    expect(t.watermark()).toBe(8000);
    await t.checkpoint();
    expect(t.output('windows')).toEqual([]);
    t.advanceWatermark(10_000);
    expect(t.watermark()).toBe(10_000);
    await t.checkpoint();
    expect(t.output<WindowResult<number>>('windows')).toEqual([{ key: 'ann', start: 0, end: 10_000, result: 2, kind: 'on-time' }]);
    // Behind the watermark: too late for its window, counted.
    t.pipe('clicks', { user: 'ann', page: '/', at: 5000 });
    await t.finish();
    expect(t.counters().get('per-window:late_records')).toBe(1);
  });

  it('moves processing time only when told: processing-time timers fire on advanceTime, with the driver clock', async () => {
    const t = open({ startTime: 50_000 });
    t.pipe('clicks', { user: 'ann', page: '/', at: 1000 });
    await t.advanceTime(999);
    await t.checkpoint();
    expect(t.output('counts')).toEqual(['ann#1@1000']);
    await t.advanceTime(1);
    await t.checkpoint();
    expect(t.output('counts')).toEqual(['ann#1@1000', 'ann quiet at 51000']);
    expect(t.clock.now()).toBe(51_000);
  });

  it('checkpoints on its own when advanceTime passes the interval', async () => {
    const t = open({ checkpointIntervalMs: 5000 });
    t.pipe('clicks', { user: 'ann', page: '/', at: 1000 });
    await t.advanceTime(4000);
    expect(t.output('counts')).toEqual([]);
    await t.advanceTime(1000);
    // The processing-time timer fired at its time, 1000, on the way.
    expect(t.output('counts')).toEqual(['ann#1@1000', 'ann quiet at 1000']);
  });

  it('dead-letters input that fails validation or decoding, with the reason', async () => {
    const t = open();
    t.pipe('clicks', { user: 7, page: '/', at: 1 } as unknown as Click);
    t.pipeRaw('clicks', '{"user": "ann", "page": "/", "at": 5}');
    t.pipeRaw('clicks', 'not json');
    await t.checkpoint();
    expect(t.output('counts')).toEqual(['ann#1@5']);
    const dead = t.deadLetters();
    expect(dead.map((d) => [d.reason, d.source, d.error?.message])).toEqual([
      ['validation_failed', 'clicks', 'user must be a string'],
      ['decode_error', 'clicks', expect.stringContaining('JSON')],
    ]);
  });

  it('routes records by key with Kafka\'s partitioner, or by explicit partition; each partition has its own actor and state', async () => {
    const t = open({ partitions: 4 });
    const users = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'];
    for (const user of users) t.pipe('clicks', { user, page: '/', at: 1 }, { key: user });
    t.pipe('clicks', { user: 'ann', page: '/', at: 2 }, { partition: 3 });
    await t.checkpoint();
    const recs = t.outputRecords<string>('counts');
    for (const user of users) expect(recs.find((r) => r.value === `${user}#1@1`)?.partition).toBe(t.partitionOf(user));
    expect(new Set(users.map((u) => t.partitionOf(u))).size).toBeGreaterThan(1);
    // Kafka's murmur2 partitioner, as the Java client computes it.
    expect(t.partitionOf('ann')).toBe(t.partitionOf('ann'));
    expect(recs.find((r) => r.value === 'ann#1@2')?.partition).toBe(3);
  });

  it('redelivered input (a consumer re-fetch) is skipped by the actor', async () => {
    const t = open();
    for (let i = 0; i < 5; i++) t.pipe('clicks', { user: 'ann', page: '/', at: i });
    await t.checkpoint();
    t.redeliver('clicks', { fromOffset: 2 });
    await t.checkpoint();
    expect(t.output('counts')).toHaveLength(5);
  });

  for (const crashAt of CRASH_POINTS) {
    it(`a crash ${crashAt} and a restart from the committed state leave the output exactly-once`, async () => {
      const run = async (crash: boolean): Promise<{ counts: string[]; windows: unknown[]; t: TestDriver<{ windowMs: number }> }> => {
        const t = open();
        for (let i = 0; i < 30; i++) {
          t.pipe('clicks', { user: `u${i % 4}`, page: '/', at: i * 700 });
          if (i % 7 === 6) await t.checkpoint({ crashAt: crash && i === 13 ? crashAt : undefined });
        }
        await t.finish();
        return { counts: t.output<string>('counts').sort(), windows: t.output('windows').map((w) => JSON.stringify(w)).sort(), t };
      };
      const clean = await run(false);
      const crashed = await run(true);
      expect(crashed.t.incarnation).toBe(2);
      expect(crashed.counts).toEqual(clean.counts);
      expect(crashed.windows).toEqual(clean.windows);
      expect(crashed.t.sink('counts').conflicts).toEqual([]);
      // After delivery but before its ack, the restarted job delivers the epoch again: the sink drops the copies by id.
      if (crashAt === 'after-deliver') expect(crashed.t.sink('counts').redelivered).toBeGreaterThan(0);
    });
  }
});
