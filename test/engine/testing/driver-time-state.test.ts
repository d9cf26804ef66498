/**
 * The test driver's clock reaches every processing-time read of the engine
 * (timers fire at their time with ctx.now() equal to it, interval
 * checkpoints, early window results); its watermark moves per source; its
 * state reads cover map state; crash() loses exactly what was not
 * committed. Through the public API only, on pipelines (forPipeline).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { count, KeyedProcessFunction, Operator, tumblingWindow, type Batch, type Key, type OperatorContext, type Timer, type WindowResult } from '../../../api/index.ts';
import { TestDriver } from '../../../api/testing.ts';

const open: TestDriver[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});
function track(d: TestDriver): TestDriver {
  open.push(d);
  return d;
}

/** Registers a processing-time timer `delay` ms after each record (the record's value), and reports when it fires. */
class Delays extends KeyedProcessFunction<number, string> {
  processElement(delay: number, key: Key, _time: number, ctx: OperatorContext<string>): void {
    ctx.timers.registerProcessingTime(key, ctx.now() + delay, String(delay));
  }
  override onTimer(t: Timer, ctx: OperatorContext<string>): void {
    ctx.emit(`${t.tag} fired at ${ctx.now()} (due ${t.ts})`, 0, t.key);
  }
}

/** Keeps every value per key in map state, by value. */
class Collect extends Operator<{ k: string; v: number }, never> {
  process(b: Batch<{ k: string; v: number }>, ctx: OperatorContext<never>): void {
    const m = ctx.mapState<number>('seen');
    for (const x of b.values) m.put(x.k, x.v, (m.get(x.k, x.v) ?? 0) + 1);
  }
}

describe('TestDriver time and state', () => {
  it('advanceTime fires each processing-time timer at its own time, and checkpoints at each interval on the way', async () => {
    const d = track(TestDriver.forPipeline((b) => b.source<number>('in').keyBy(() => 'k', 'key').process(new Delays(), 'delays').to('out'), { checkpointIntervalMs: 2000, startTime: 10_000 }));
    d.pipe('in', 3000);
    d.pipe('in', 1000);
    d.pipe('in', 7000);
    await d.advanceTime(5000);
    expect(d.output('out')).toEqual(['1000 fired at 11000 (due 11000)', '3000 fired at 13000 (due 13000)']);
    await d.advanceTime(5000);
    expect(d.output('out')).toHaveLength(3);
    expect(d.output('out')[2]).toBe('7000 fired at 17000 (due 17000)');
    expect(d.clock.now()).toBe(20_000);
    // Interval checkpoints happened on the way (each delivers its epoch), not one per call.
    expect(d.sink('out').deliveries).toBeGreaterThanOrEqual(3);
  });

  it('early window results follow the driver clock', async () => {
    const d = track(
      TestDriver.forPipeline(
        (b) => b.source<{ k: string; t: number }>('in').keyBy((e) => e.k, 'key').process(tumblingWindow({ sizeMs: 60_000, early: { intervalMs: 1000 }, aggregate: count() }), 'win').to('out'),
        { sources: { in: { timestamp: (e) => (e as { t: number }).t } } },
      ),
    );
    d.pipe('in', { k: 'a', t: 5 });
    await d.checkpoint();
    expect(d.output('out')).toEqual([]); // less than a second of processing time since the start
    await d.advanceTime(1000);
    d.pipe('in', { k: 'a', t: 6 });
    await d.checkpoint();
    expect(d.output<WindowResult<number>>('out').map((w) => [w.kind, w.result])).toEqual([['early', 2]]);
  });

  it('advanceWatermark moves one source only when asked: the other still holds the watermark back', async () => {
    const d = track(
      TestDriver.forPipeline((b) => b.source('left').union(b.source('right')).to('out'), {
        sources: { left: { watermark: { maxOutOfOrdernessMs: 100 } }, right: { watermark: { maxOutOfOrdernessMs: 0 } } },
      }),
    );
    d.advanceWatermark(1000, { source: 'left' });
    expect(d.watermark()).toBe(-Infinity);
    d.advanceWatermark(500, { source: 'right' });
    expect(d.watermark()).toBe(500);
    d.advanceWatermark(2000);
    expect(d.watermark()).toBe(2000);
  });

  it('reads map state and committed state keys', async () => {
    const d = track(TestDriver.forPipeline((b) => void b.source<{ k: string; v: number }>('in').process(new Collect(), 'collect'), { partitions: 2 }));
    d.pipeRecords('in', [{ value: { k: 'a', v: 1 } }, { value: { k: 'a', v: 2 } }, { value: { k: 'a', v: 1 } }, { value: { k: 'b', v: 9 }, partition: 1 }]);
    expect(d.mapState<number>('collect', 'seen').entries('a')).toEqual([[1, 2], [2, 1]]);
    expect(d.mapState<number>('collect', 'seen').get('b', 9)).toBe(1);
    expect(d.mapState<number>('collect', 'seen').keys('c')).toEqual([]);
    expect(d.stateKeys()).toBe(0); // nothing checkpointed yet
    await d.checkpoint();
    expect(d.stateKeys()).toBe(3);
  });

  it('crash() loses what was not committed, and the restarted job processes it again from its input', async () => {
    const d = track(TestDriver.forPipeline((b) => void b.source<{ k: string; v: number }>('in').process(new Collect(), 'collect')));
    d.pipe('in', { k: 'a', v: 1 });
    await d.checkpoint();
    d.pipe('in', { k: 'a', v: 2 });
    await d.crash();
    expect(d.incarnation).toBe(2);
    // Replayed from the committed position: v 2 again, once.
    expect(d.mapState<number>('collect', 'seen').entries('a')).toEqual([[1, 1], [2, 1]]);
  });
});
