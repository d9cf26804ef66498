/** Timers kept in state: they fire in (time, key) order, once, and survive a crash and restart. */
import { describe, expect, it } from 'vitest';
import { KeyedProcessFunction } from '../../../engine/operators/keyed-process.ts';
import type { Key, OperatorContext, Timer } from '../../../engine/contracts/operator.ts';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import { tempDir } from '../../helpers/temp.ts';
import { openActor, readSink } from './actor-harness.ts';

interface Ev {
  k: string;
  t: number;
}

/** Registers an event-time timer at t + 1000 for each record, and a processing-time one if asked. */
class Alarm extends KeyedProcessFunction<Ev, string> {
  processElement(v: Ev, key: Key, time: number, ctx: OperatorContext<string>): void {
    ctx.timers.registerEventTime(key, time + 1000, 'et');
    if (v.k === 'proc') ctx.timers.registerProcessingTime(key, ctx.now() + 30, 'pt');
  }
  override onTimer(t: Timer, ctx: OperatorContext<string>): void {
    ctx.emit(`${t.kind}:${t.ts}:${String(t.key)}`, t.ts, t.key);
  }
}

function nodes() {
  const b = new PipelineBuilder();
  b.source<Ev>('in').keyBy((v) => v.k, 'key').process(new Alarm(), 'alarm').to('out');
  return b.nodes;
}

const feed = (h: Awaited<ReturnType<typeof openActor>>, evs: Ev[], from: number): void => {
  const offs = evs.map((_, i) => from + i);
  h.actor.ingest(0, evs, evs.map((e) => e.t), offs);
};

describe('timers', () => {
  it('fire in (time, key) order as the watermark passes them, and survive a restart', async () => {
    const stateDir = tempDir();
    const outDir = tempDir();
    const first = await openActor({ stateDir, outDir, nodes: nodes() });
    // Out of order on purpose: timers at 1100 (b), 1100 (a), 1050 (c), 1300 (d), 2000 (e).
    feed(first, [{ k: 'b', t: 100 }, { k: 'a', t: 100 }, { k: 'c', t: 50 }, { k: 'd', t: 300 }, { k: 'e', t: 1000 }], 0);
    await first.actor.checkpoint();
    // Watermark to 1200: c@1050, a@1100, b@1100 fire now. Then the process dies before the next checkpoint.
    feed(first, [{ k: 'f', t: 1200 }], 5);
    first.actor.destroy();

    const second = await openActor({ stateDir, outDir, nodes: nodes(), env: first.env });
    expect(second.actor.position(0)).toBe(5); // resumes after the checkpoint, so the record at 5 is replayed
    feed(second, [{ k: 'f', t: 1200 }], 5);
    feed(second, [{ k: 'g', t: 5000 }], 6);
    await second.actor.close();
    await second.env.close();
    const fired = readSink(outDir).map((l) => l.value);
    expect(fired).toEqual([
      'event:1050:c',
      'event:1100:a',
      'event:1100:b',
      'event:1300:d',
      'event:2000:e',
      'event:2200:f',
    ]);
  });

  it('processing-time timers fire on the tick after they are due', async () => {
    const outDir = tempDir();
    // A manual clock: a slow machine cannot make the timer due before the first tick.
    let now = 1_000_000;
    const h = await openActor({ stateDir: tempDir(), outDir, nodes: nodes(), now: () => now });
    feed(h, [{ k: 'proc', t: 1 }], 0);
    await h.actor.tick();
    now += 29;
    await h.actor.tick();
    expect(h.actor.counters.recordsOut.get('out') ?? 0).toBe(0);
    now += 1;
    await h.actor.tick();
    expect(h.actor.counters.recordsOut.get('out')).toBe(1);
    await h.actor.close();
    await h.env.close();
    expect(readSink(outDir).map((l) => String(l.value).split(':')[0])).toEqual(['processing']);
  });
});
