/**
 * Checkpoint atomicity: a crash between every two phases of a checkpoint
 * (after prepare, after the durable commit, after delivery, after the ack)
 * loses nothing and duplicates nothing in an idempotent sink.
 *
 * The pipeline is a keyed counter that emits every update, so any lost or
 * doubled input record shows up as a wrong count, and any redelivery that is
 * not idempotent shows up as a duplicate record id.
 */
import { describe, expect, it } from 'vitest';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import { KeyedProcessFunction } from '../../../engine/operators/keyed-process.ts';
import type { Key, OperatorContext } from '../../../engine/contracts/operator.ts';
import type { FaultPoint } from '../../../engine/runtime/partition-actor.ts';
import { tempDir } from '../../helpers/temp.ts';
import { openActor, readSink } from './actor-harness.ts';

class Count extends KeyedProcessFunction<{ k: string }, { k: string; n: number }> {
  processElement(v: { k: string }, key: Key, time: number, ctx: OperatorContext<{ k: string; n: number }>): void {
    const s = ctx.valueState<number>('n');
    const n = (s.get(key) ?? 0) + 1;
    s.put(key, n);
    ctx.emit({ k: v.k, n }, time, key);
  }
}

function pipeline() {
  const b = new PipelineBuilder();
  b.source<{ k: string }>('in').keyBy((v) => v.k, 'key').process(new Count(), 'count').to('out');
  return b.nodes;
}

const KEYS = 7;
const TOTAL = 3000;
const BATCH = 100;
const record = (o: number) => ({ k: `k${(o * 31) % KEYS}` });

/** Feeds offsets [from, to) in batches, checkpointing every 3 batches. */
async function feed(actor: Awaited<ReturnType<typeof openActor>>['actor'], from: number, to: number): Promise<void> {
  for (let o = from, b = 0; o < to; o += BATCH, b++) {
    const n = Math.min(BATCH, to - o);
    const offs = Array.from({ length: n }, (_, i) => o + i);
    actor.ingest(0, offs.map(record), offs.map((x) => x), offs);
    if (b % 3 === 2) await actor.checkpoint();
  }
}

function expectExact(outDir: string): void {
  const lines = readSink(outDir);
  const ids = new Set(lines.map((l) => l.id));
  expect(ids.size).toBe(lines.length); // no duplicate record anywhere in the sink
  expect(lines.length).toBe(TOTAL); // one update per input record: none lost, none doubled
  const last = new Map<string, number>();
  for (const l of lines) last.set((l.value as { k: string }).k, (l.value as { n: number }).n);
  const want = new Map<string, number>();
  for (let o = 0; o < TOTAL; o++) want.set(record(o).k, (want.get(record(o).k) ?? 0) + 1);
  expect(Object.fromEntries(last)).toEqual(Object.fromEntries(want));
}

const points: FaultPoint[] = ['after-prepare', 'after-commit', 'after-deliver', 'after-ack'];

describe('checkpoint atomicity under crashes', () => {
  it('without a crash, the output is exact', async () => {
    const stateDir = tempDir();
    const outDir = tempDir();
    const h = await openActor({ stateDir, outDir, nodes: pipeline() });
    await feed(h.actor, 0, TOTAL);
    await h.actor.close();
    await h.env.close();
    expectExact(outDir);
  });

  for (const point of points) {
    for (const atCheckpoint of [1, 4]) {
      it(`a crash ${point} of checkpoint ${atCheckpoint} loses and doubles nothing`, async () => {
        const stateDir = tempDir();
        const outDir = tempDir();
        let checkpoints = 0;
        let crashed = false;
        const fault = (p: FaultPoint): void => {
          if (p === 'after-prepare') checkpoints++;
          if (!crashed && p === point && checkpoints >= atCheckpoint) {
            crashed = true;
            throw new Error(`injected crash ${p}`);
          }
        };
        const first = await openActor({ stateDir, outDir, nodes: pipeline(), fault });
        // Run until the injected crash; the process "dies": the actor is dropped, nothing is closed cleanly.
        await expect(
          (async () => {
            await feed(first.actor, 0, TOTAL);
            await first.actor.close();
          })(),
        ).rejects.toThrow(/injected crash/);
        // Wait out any delivery already under way, as a real crash would have cut it anywhere.
        await new Promise((r) => setTimeout(r, 50));
        first.actor.destroy();

        // Restart on the same state directory: resume from the committed positions.
        const second = await openActor({ stateDir, outDir, nodes: pipeline(), env: first.env });
        const resumeAt = second.actor.position(0);
        expect(resumeAt).toBeGreaterThanOrEqual(0);
        expect(resumeAt).toBeLessThanOrEqual(TOTAL);
        await feed(second.actor, resumeAt, TOTAL);
        await second.actor.close();
        await second.env.close();
        expectExact(outDir);
      });
    }
  }

  it('replayed input below the committed position is skipped', async () => {
    const stateDir = tempDir();
    const outDir = tempDir();
    const h = await openActor({ stateDir, outDir, nodes: pipeline() });
    await feed(h.actor, 0, 1000);
    await h.actor.checkpoint();
    // The consumer re-delivers an overlapping fetch: offsets 900..1099.
    const offs = Array.from({ length: 200 }, (_, i) => 900 + i);
    h.actor.ingest(0, offs.map(record), offs, offs);
    await feed(h.actor, 1100, TOTAL);
    await h.actor.close();
    await h.env.close();
    expect(h.actor.counters.skippedReplay).toBe(100);
    expectExact(outDir);
  });
});
