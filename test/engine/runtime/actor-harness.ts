/**
 * Drives one PartitionActor directly, on a real LMDB store and a real file
 * sink, with a deterministic input: what the worker does, minus the thread.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineNode } from '../../../engine/contracts/pipeline.ts';
import type { SinkDriver } from '../../../engine/contracts/sinks.ts';
import { PartitionActor, type FaultPoint } from '../../../engine/runtime/partition-actor.ts';
import { openActorStore, openStoreEnv, type StoreEnvHandle } from '../../../engine/runtime/stores.ts';
import { fileSink } from '../../../engine/sinks/file-sink.ts';
import { DEAD_LETTER_SINK } from '../../../engine/runtime/topology.ts';

export interface Harness {
  actor: PartitionActor;
  sinks: Map<string, SinkDriver>;
}

export async function openActor(opts: {
  stateDir: string;
  outDir: string;
  nodes: readonly PipelineNode[];
  inputs?: string[];
  env?: StoreEnvHandle;
  fault?: (p: FaultPoint) => void;
  cacheMaxEntries?: number;
  checkpointIntervalMs?: number;
  /** The actor's processing-time clock (default Date.now). */
  now?: () => number;
}): Promise<Harness & { env: StoreEnvHandle }> {
  const env = opts.env ?? openStoreEnv(opts.stateDir);
  const store = openActorStore(env, 'p0', { cacheMaxEntries: opts.cacheMaxEntries ?? 1000 });
  const sinks = new Map<string, SinkDriver>();
  for (const id of ['out', DEAD_LETTER_SINK]) {
    const d = fileSink({ dir: join(opts.outDir, id), envelope: true }).create();
    await d.open({ job: 't', sinkId: id, workerId: 0, runtime: { brokers: [], stateDir: opts.stateDir, outputDir: opts.outDir, embedded: true } });
    sinks.set(id, d);
  }
  const actor = new PartitionActor({
    job: 't',
    actorId: 'p0',
    partition: 0,
    inputs: (opts.inputs ?? ['in']).map((sourceId) => ({ sourceId, watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0 } })),
    nodes: opts.nodes,
    store: store.store,
    sinks,
    checkpointIntervalMs: opts.checkpointIntervalMs ?? 1_000_000,
    fault: opts.fault,
    now: opts.now,
  });
  actor.open();
  return { actor, sinks, env };
}

export interface OutLine {
  id: string;
  key: string | null;
  time: number;
  value: unknown;
}

/** Everything the file sink holds for `sinkId`, file by file in epoch order. */
export function readSink(outDir: string, sinkId = 'out'): OutLine[] {
  const dir = join(outDir, sinkId, 'part-0');
  if (!existsSync(dir)) return [];
  const out: OutLine[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as OutLine);
  }
  return out;
}
