/**
 * `npm run bench -- distribution`: moving state between processes, over a
 * real broker, with the keyed counting job (one process = one machine: each
 * has its own state directory).
 *
 * - restore: keys/s rebuilt from the changelog after a state dir is wiped
 *   (the processes' own "restored N keys ... in M ms" lines);
 * - failover: SIGKILL a process, then time until every partition it owned
 *   commits progress again in the survivor (bounded below by the session
 *   timeout, which the broker needs to notice the death);
 * - planned rebalance: SIGTERM one of two processes, then time until every
 *   partition commits progress again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { produceKeyed } from '../lib/produce-keyed.ts';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { figure, log } from '../bench-harness.ts';
import type { Scenario } from '../scenario.ts';
import { resolveBroker } from './kafka.ts';

const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Proc {
  child: ChildProcess;
  err: string;
  exited: Promise<void>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const p: Proc = { child, err: '', exited: new Promise((r) => child.on('exit', () => r())) };
  child.stderr!.on('data', (d: Buffer) => (p.err += d.toString()));
  return p;
}

async function committed(brokers: string[], group: string, topic: string): Promise<Map<number, number>> {
  const a = createAdmin({ brokers, clientId: 'bench' });
  try {
    return await a.fetchCommittedOffsets(group, topic);
  } finally {
    await a.close();
  }
}

/** Ms until every partition's committed offset moved past where it was at `t0`. */
async function untilAllProgress(brokers: string[], group: string, topic: string, t0: number, timeoutMs = 120_000): Promise<number> {
  const base = await committed(brokers, group, topic);
  const moved = new Set<number>();
  while (Date.now() - t0 < timeoutMs) {
    const now = await committed(brokers, group, topic);
    for (const [p, o] of now) if (o > (base.get(p) ?? 0)) moved.add(p);
    if (moved.size === base.size && base.size > 0) return Date.now() - t0;
    await sleep(100);
  }
  throw new Error(`not every partition progressed within ${timeoutMs} ms`);
}

export const distributionScenario: Scenario = {
  name: 'distribution',
  description: 'Changelog restore rate, failover time after SIGKILL, pause during a planned rebalance',
  defaults: { brokers: '', runs: 3, keys: 200_000, partitions: 4, sessionTimeoutMs: 6000 },
  async run(o) {
    const broker = await resolveBroker(o);
    const brokers = broker.brokers;
    const runs = Number(o.runs);
    const P = Number(o.partitions);
    const restoreRates: number[] = [];
    const failovers: number[] = [];
    const pauses: number[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        const id = `bench-dist-${Date.now()}`;
        const topic = `${id}-in`;
        const admin = createAdmin({ brokers, clientId: 'bench' });
        await admin.ensureTopic(topic, P);
        await admin.ensureTopic(`${id}-out`, P, { 'cleanup.policy': 'compact' });
        await admin.close();
        const keys = Number(o.keys);
        await produceKeyed(brokers, topic, keys, keys);
        const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'sluice-dist-')));
        const args = (dir: string): string[] => [
          'run', 'keyed-count', '--brokers', brokers.join(','), '--workers', '1', '--state-dir', dir, '--group-id', id,
          '--session-timeout', String(o.sessionTimeoutMs), '--checkpoint-interval', '250', '--no-progress',
          '--set', `topic=${topic}`, '--set', `outTopic=${id}-out`, '--set', `keys=${keys}`,
        ];
        // 1. Build state, then wipe it and restore it.
        let a = start(args(dirs[0]));
        while ([...(await committed(brokers, id, topic)).values()].reduce((x, y) => x + y, 0) < keys) await sleep(200);
        a.child.kill('SIGTERM');
        await a.exited;
        rmSync(dirs[0], { recursive: true, force: true });
        a = start(args(dirs[0]));
        while ((a.err.match(/ restored /g) ?? []).length < P) await sleep(100);
        const lines = [...a.err.matchAll(/restored (\d+) keys from \d+ changelog records in (\d+) ms/g)];
        const restoredKeys = lines.reduce((n, m) => n + Number(m[1]), 0);
        const ms = Math.max(...lines.map((m) => Number(m[2])));
        restoreRates.push((restoredKeys / Math.max(ms, 1)) * 1000);
        log(`distribution: restored ${restoredKeys} keys, slowest partition ${ms} ms`);
        // 2. A second process; keep input flowing; then a planned rebalance (SIGTERM b).
        // Input keeps flowing through both measurements (75 s), so every partition has work to show progress on.
        const feeding = produceKeyed(brokers, topic, 150_000, keys, keys, 2_000);
        const b = start(args(dirs[1]));
        await sleep(8000);
        let t0 = Date.now();
        b.child.kill('SIGTERM');
        pauses.push(await untilAllProgress(brokers, id, topic, t0));
        await b.exited;
        // 3. Failover: b back, then SIGKILL a.
        const b2 = start(args(dirs[1]));
        await sleep(8000);
        t0 = Date.now();
        a.child.kill('SIGKILL');
        failovers.push(await untilAllProgress(brokers, id, topic, t0));
        log(`distribution: run ${r + 1}: planned rebalance pause ${pauses.at(-1)} ms, failover ${failovers.at(-1)} ms`);
        await feeding;
        b2.child.kill('SIGTERM');
        await b2.exited;
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    } finally {
      await broker.stop?.();
    }
    return {
      settings: { runs, keys: Number(o.keys), partitions: P, sessionTimeoutMs: Number(o.sessionTimeoutMs), checkpointIntervalMs: 250, workersPerProcess: 1 },
      figures: [
        figure({ what: 'restore from changelog' }, 'restore rate', 'keys/s', restoreRates),
        figure({ what: 'SIGKILL → all its partitions processing elsewhere' }, 'failover time', 'ms', failovers),
        figure({ what: 'SIGTERM of 1 of 2 processes → all partitions processing' }, 'planned rebalance pause', 'ms', pauses),
      ],
      notes: [
        `Broker: ${broker.source}. One worker per process, ${P} partitions, keyed-count job.`,
        'Restore rate: keys rebuilt over the slowest partition\'s restore time (partitions restore in parallel).',
        'Failover includes the session timeout the broker waits before declaring the killed process dead.',
      ],
    };
  },
};
