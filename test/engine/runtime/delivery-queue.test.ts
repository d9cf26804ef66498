import { describe, expect, it } from 'vitest';
import type { AnySinkDriver, EpochTransaction, SinkDelivery, SinkDriver, SinkEpoch, TwoPhaseSinkDriver } from '../../../engine/contracts/sinks.ts';
import { DeliveryQueue } from '../../../engine/runtime/delivery-queue.ts';
import type { OutboxEntry } from '../../../engine/runtime/outbox.ts';
import { CHANGELOG_SINK } from '../../../engine/runtime/changelog.ts';
import { SluiceError, ErrorCodes } from '../../../engine/errors.ts';
import { DeliveryPolicy } from '../../../engine/runtime/delivery-policy.ts';

/**
 * A sink that logs its calls; `gate` holds every call until released. A
 * two-phase one logs its commits (`name:[epochs]`), and its prepares when
 * `logPrepare` is set (`name.prepare:epoch`).
 */
function loggingSink(log: string[], name: string, opts: { twoPhase?: boolean; logPrepare?: boolean; gate?: () => Promise<void>; failFirst?: number } = {}): AnySinkDriver {
  let failures = opts.failFirst ?? 0;
  const call = async (what: string): Promise<void> => {
    log.push(what);
    await opts.gate?.();
    if (failures > 0) {
      failures--;
      throw new SluiceError(ErrorCodes.SINK, `${name} down`, { retryable: true });
    }
  };
  if (opts.twoPhase) {
    const d: TwoPhaseSinkDriver = {
      open: async () => {},
      close: async () => {},
      prepare: async (x: SinkDelivery) => void (opts.logPrepare && log.push(`${name}.prepare:${x.epoch}`)),
      commit: (xs: readonly SinkEpoch[]) => call(`${name}:[${xs.map((x) => x.epoch).join(',')}]`),
    };
    return d;
  }
  const d: SinkDriver = {
    open: async () => {},
    close: async () => {},
    deliver: (x: SinkDelivery) => call(`${name}:${x.epoch}`),
  };
  return d;
}

function epoch(e: number, sinks: string[]): OutboxEntry[] {
  return sinks.map((sinkId) => ({ epoch: e, sinkId, records: [{ id: `0-${e}-0`, key: null, value: e, time: 0 }] }));
}

/** A gate that holds the first call it sees until release(); later calls pass. */
function firstCallGate(): { gate: () => Promise<void>; release: () => void } {
  let open: (() => void) | undefined;
  let first = true;
  return {
    gate: () => {
      if (!first) return Promise.resolve();
      first = false;
      return new Promise<void>((r) => (open = r));
    },
    release: () => open?.(),
  };
}

describe('DeliveryQueue', () => {
  it('other sinks run ahead of a slow changelog commit, which then takes the queued epochs in one commit', async () => {
    const log: string[] = [];
    const { gate, release } = firstCallGate();
    const sinks = new Map<string, AnySinkDriver>([
      ['out', loggingSink(log, 'out')],
      [CHANGELOG_SINK, loggingSink(log, 'tx', { twoPhase: true, gate })],
    ]);
    const acked: number[] = [];
    const q = new DeliveryQueue('a0', 0, sinks, 0, (e) => acked.push(e));
    q.push(1, epoch(1, ['out', CHANGELOG_SINK]));
    await new Promise((r) => setTimeout(r, 5));
    for (let e = 2; e <= 5; e++) q.push(e, epoch(e, ['out', CHANGELOG_SINK]));
    await new Promise((r) => setTimeout(r, 5));
    // 'out' has every epoch while 'tx' is still in its first call; no epoch is acked before 'tx' has it.
    expect(log).toEqual(['out:1', 'tx:[1]', 'out:2', 'out:3', 'out:4', 'out:5']);
    expect(acked).toEqual([]);
    expect(q.backlog).toBe(5);
    release();
    await q.drain();
    expect(log).toEqual(['out:1', 'tx:[1]', 'out:2', 'out:3', 'out:4', 'out:5', 'tx:[2,3,4,5]']);
    expect(acked).toEqual([1, 5]);
    expect(q.delivered).toBe(5);
    expect(q.backlog).toBe(0);
  });

  it('gives the changelog an epoch only after every other sink has it, and delivers nothing while held', async () => {
    const log: string[] = [];
    const { gate, release } = firstCallGate();
    const sinks = new Map<string, AnySinkDriver>([
      ['fast', loggingSink(log, 'fast')],
      ['slow', loggingSink(log, 'slow', { gate })],
      [CHANGELOG_SINK, loggingSink(log, 'tx', { twoPhase: true })],
    ]);
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {});
    q.hold();
    q.push(1, epoch(1, ['fast', 'slow', CHANGELOG_SINK]));
    q.push(2, epoch(2, ['fast', 'slow', CHANGELOG_SINK]));
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]);
    q.release();
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['fast:1', 'slow:1', 'fast:2']);
    release();
    await q.drain();
    // tx takes epoch 1 once both other sinks have it (it commits it while slow delivers epoch 2), epoch 2 once slow has it too.
    expect(log.slice(0, 3)).toEqual(['fast:1', 'slow:1', 'fast:2']);
    expect([...log.slice(3)].sort()).toEqual(['slow:2', 'tx:[1]', 'tx:[2]']);
    expect(log.indexOf('tx:[2]')).toBeGreaterThan(log.indexOf('slow:2'));
    expect(q.delivered).toBe(2);
  });

  it('retries a failed group as a whole, and skips epochs with nothing for a sink', async () => {
    const log: string[] = [];
    const sinks = new Map<string, AnySinkDriver>([[CHANGELOG_SINK, loggingSink(log, 'tx', { twoPhase: true, failFirst: 1 })]]);
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {});
    q.push(1, epoch(1, [CHANGELOG_SINK]));
    q.push(2, []);
    q.push(3, epoch(3, [CHANGELOG_SINK]));
    await q.drain();
    expect(log).toEqual(['tx:[1,3]', 'tx:[1,3]']);
    expect(q.retries).toBe(1);
    expect(q.delivered).toBe(3);
  });

  it('fails with the range of epochs when a group gives up', async () => {
    const sinks = new Map<string, AnySinkDriver>([[CHANGELOG_SINK, loggingSink([], 'tx', { twoPhase: true, failFirst: 99 })]]);
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {}, new DeliveryPolicy({ retryForMs: 0 }, () => {}));
    q.push(1, epoch(1, [CHANGELOG_SINK]));
    q.push(2, epoch(2, [CHANGELOG_SINK]));
    await expect(q.drain()).rejects.toThrow(/the Kafka transaction \(changelog, checkpoint marker and Kafka sinks' output\) of partition 0 failed for epochs 1–2, gave up after 1 attempts/);
    expect(q.delivered).toBe(0);
  });
});

describe('DeliveryQueue: two-phase sinks', () => {
  it('a two-phase sink prepares each queued epoch, then commits them at once, without waiting for other sinks', async () => {
    const log: string[] = [];
    const { gate, release } = firstCallGate();
    const sinks = new Map<string, AnySinkDriver>([
      ['slow', loggingSink(log, 'slow', { gate })],
      ['files', loggingSink(log, 'files', { twoPhase: true, logPrepare: true })],
    ]);
    const q = new DeliveryQueue('p0', 0, sinks, 0, () => {});
    q.hold();
    for (let e = 1; e <= 3; e++) q.push(e, epoch(e, ['slow', 'files']));
    q.release();
    await until(() => log.includes('files:[1,2,3]'));
    // 'slow' is still in its first call: the files' commit did not wait for it, and nothing is acked yet.
    expect(log).toEqual(['slow:1', 'files.prepare:1', 'files.prepare:2', 'files.prepare:3', 'files:[1,2,3]']);
    expect(q.delivered).toBe(0);
    release();
    await q.drain();
    expect(q.delivered).toBe(3);
  });

  it("hands each prepare the actor's transaction of its epoch, and prepares again when the commit is retried", async () => {
    const log: string[] = [];
    const txns: string[] = [];
    const kafka: TwoPhaseSinkDriver = {
      open: async () => {},
      close: async () => {},
      prepare: async (d: SinkDelivery, txn: EpochTransaction | undefined) => txn!.add(d.records.map((r) => ({ topic: 'out', key: r.key, value: String(r.value) }))),
      commit: async () => {},
    };
    const sinks = new Map<string, AnySinkDriver>([
      ['kafka', kafka],
      [CHANGELOG_SINK, loggingSink(log, 'tx', { twoPhase: true, logPrepare: true, failFirst: 1 })],
    ]);
    const transaction = (sinkId: string, e: number): EpochTransaction => ({ add: (rs) => void txns.push(`${sinkId}@${e}:${rs.map((r) => String(r.value)).join(',')}`) });
    const q = new DeliveryQueue('p0', 0, sinks, 0, () => {}, new DeliveryPolicy({ backoff: { initialMs: 0, maxMs: 0 } }, () => {}), transaction);
    q.push(1, epoch(1, ['kafka', CHANGELOG_SINK]));
    await q.drain();
    expect(txns).toEqual(['kafka@1:1']);
    // The changelog's commit failed once: it was prepared again before the retry.
    expect(log).toEqual(['tx.prepare:1', 'tx:[1]', 'tx.prepare:1', 'tx:[1]']);
    expect(q.delivered).toBe(1);
  });
});

describe('DeliveryQueue: the one delivery policy', () => {
  /** A clock the test moves; the policy's backoff is 0 so retries follow at once. */
  function policy(o: { retryForMs: number; logEveryMs?: number }) {
    const clock = { t: 1_000_000 };
    const lines: string[] = [];
    const p = new DeliveryPolicy({ retryForMs: o.retryForMs, logEveryMs: o.logEveryMs ?? 1_000, backoff: { initialMs: 0, maxMs: 0 } }, (l) => lines.push(l), () => clock.t);
    return { p, clock, lines };
  }

  /** A sink failing with `err` until `heal` is set; each attempt advances the clock by `stepMs`. */
  function flakySink(err: () => unknown, clock: { t: number }, stepMs: number) {
    const s = { attempts: 0, heal: false };
    const d: SinkDriver = {
      open: async () => {},
      close: async () => {},
      deliver: async () => {
        s.attempts++;
        clock.t += stepMs;
        if (!s.heal) throw err();
      },
    };
    return { s, d };
  }

  it('retries a retryable failure with its cause logged, rate-limited, reports the stall, and logs the recovery', async () => {
    const { p, clock, lines } = policy({ retryForMs: 60_000, logEveryMs: 1_000 });
    const { s, d } = flakySink(() => new SluiceError(ErrorCodes.SINK, 'db down: ECONNREFUSED', { retryable: true }), clock, 100);
    const q = new DeliveryQueue('p3', 3, new Map([['users', d]]), 0, () => {}, p);
    q.push(1, epoch(1, ['users']));
    await until(() => s.attempts >= 25);
    // 25 failures 100 ms apart: a line at the first, then one per second of failing.
    const retryLines = lines.filter((l) => l.includes('failed for epoch 1'));
    expect(retryLines[0]).toMatch(/^sink "users" of partition 3 failed for epoch 1 \(db down: ECONNREFUSED\); retry 1 in 0\.0 s/);
    expect(retryLines.length).toBeGreaterThanOrEqual(2);
    expect(retryLines.length).toBeLessThanOrEqual(4);
    expect(retryLines[1]).toMatch(/more retries since the last line/);
    const [stall] = q.stalls();
    expect(stall).toMatchObject({ sink: 'users', cause: 'db down: ECONNREFUSED' });
    expect(stall.failures).toBeGreaterThanOrEqual(25);
    s.heal = true;
    await q.drain();
    expect(q.stalls()).toEqual([]);
    expect(q.delivered).toBe(1);
    expect(lines.at(-1)).toMatch(/^sink "users" of partition 3 recovered: epoch 1 delivered after \d+ failed attempts/);
  });

  it('gives up when the retry budget is spent: one failure naming sink, partition, epoch and cause, reported once', async () => {
    const { p, clock } = policy({ retryForMs: 5_000 });
    const { s, d } = flakySink(() => new Error('connect ECONNREFUSED 127.0.0.1:1'), clock, 1_000);
    const q = new DeliveryQueue('p2', 2, new Map([['rows', d]]), 0, () => {}, p);
    const failures: Error[] = [];
    q.onFailed = (e) => failures.push(e);
    q.push(1, epoch(1, ['rows']));
    await expect(q.drain()).rejects.toThrow(
      /^sink "rows" of partition 2 failed for epoch 1, gave up after 6 attempts in 5\.0 s \(retry budget 5000 ms, --sink-retry-for\): connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
    expect(s.attempts).toBe(6); // the budget runs from the first failure: 5 s of retries after it
    expect(failures).toHaveLength(1);
    expect(() => q.push(2, epoch(2, ['rows']))).toThrow(/gave up/);
  });

  it('fails at once on an error the sink marks not retryable', async () => {
    const { p, clock } = policy({ retryForMs: 60_000 });
    const { s, d } = flakySink(() => new SluiceError(ErrorCodes.SINK, 'custom sink: bad credentials', { retryable: false }), clock, 1);
    const q = new DeliveryQueue('p0', 0, new Map([['custom', d]]), 0, () => {}, p);
    const failures: Error[] = [];
    q.onFailed = (e) => failures.push(e);
    q.push(1, epoch(1, ['custom']));
    await expect(q.drain()).rejects.toThrow('sink "custom" of partition 0 failed for epoch 1, not retryable: custom sink: bad credentials');
    expect(s.attempts).toBe(1);
    expect(failures).toHaveLength(1);
  });

  it('destroy() ends a retry in its backoff without reporting a failure', async () => {
    const p = new DeliveryPolicy({ retryForMs: 600_000, backoff: { initialMs: 600_000, maxMs: 600_000 } }, () => {});
    let attempts = 0;
    const d: SinkDriver = {
      open: async () => {},
      close: async () => {},
      deliver: async () => {
        attempts++;
        throw new Error('down');
      },
    };
    const q = new DeliveryQueue('p0', 0, new Map([['s', d]]), 0, () => {}, p);
    const failures: Error[] = [];
    q.onFailed = (e) => failures.push(e);
    q.push(1, epoch(1, ['s']));
    await until(() => attempts === 1 && q.stalls().length === 1);
    q.destroy();
    await expect(q.drain()).rejects.toThrow(/delivery aborted/);
    expect(attempts).toBe(1);
    expect(failures).toEqual([]);
  });
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

