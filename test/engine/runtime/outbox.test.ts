import { describe, expect, it } from 'vitest';
import type { SinkDelivery, SinkDriver } from '../../../engine/contracts/sinks.ts';
import { DeliveryQueue, undeliveredEpochs, type OutboxEntry } from '../../../engine/runtime/outbox.ts';
import { CHANGELOG_SINK } from '../../../engine/runtime/changelog.ts';
import { SluiceError, ErrorCodes } from '../../../engine/errors.ts';
import { DeliveryPolicy } from '../../../engine/runtime/delivery-policy.ts';

/** A sink that logs its calls; `gate` holds every call until released. */
function loggingSink(log: string[], name: string, opts: { batched?: boolean; gate?: () => Promise<void>; failFirst?: number } = {}): SinkDriver {
  let failures = opts.failFirst ?? 0;
  const call = async (what: string): Promise<void> => {
    log.push(what);
    await opts.gate?.();
    if (failures > 0) {
      failures--;
      throw new SluiceError(ErrorCodes.SINK, `${name} down`, { retryable: true });
    }
  };
  const d: SinkDriver = {
    open: async () => {},
    close: async () => {},
    deliver: (x: SinkDelivery) => call(`${name}:${x.epoch}`),
  };
  if (opts.batched) d.deliverEpochs = (xs: SinkDelivery[]) => call(`${name}:[${xs.map((x) => x.epoch).join(',')}]`);
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
  it('plain sinks run ahead of a slow deliverEpochs sink, which then takes the queued epochs in one call', async () => {
    const log: string[] = [];
    const { gate, release } = firstCallGate();
    const sinks = new Map<string, SinkDriver>([
      ['out', loggingSink(log, 'out')],
      ['tx', loggingSink(log, 'tx', { batched: true, gate })],
    ]);
    const acked: number[] = [];
    const q = new DeliveryQueue('a0', 0, sinks, 0, (e) => acked.push(e));
    q.push(1, epoch(1, ['out', 'tx']));
    await new Promise((r) => setTimeout(r, 5));
    for (let e = 2; e <= 5; e++) q.push(e, epoch(e, ['out', 'tx']));
    await new Promise((r) => setTimeout(r, 5));
    // 'out' has every epoch while 'tx' is still in its first call; no epoch is acked before 'tx' has it.
    expect(log).toEqual(['out:1', 'tx:1', 'out:2', 'out:3', 'out:4', 'out:5']);
    expect(acked).toEqual([]);
    expect(q.backlog).toBe(5);
    release();
    await q.drain();
    expect(log).toEqual(['out:1', 'tx:1', 'out:2', 'out:3', 'out:4', 'out:5', 'tx:[2,3,4,5]']);
    expect(acked).toEqual([1, 5]);
    expect(q.delivered).toBe(5);
    expect(q.backlog).toBe(0);
  });

  it('gives a deliverEpochs sink an epoch only after every plain sink has it, and delivers nothing while held', async () => {
    const log: string[] = [];
    const { gate, release } = firstCallGate();
    const sinks = new Map<string, SinkDriver>([
      ['fast', loggingSink(log, 'fast')],
      ['slow', loggingSink(log, 'slow', { gate })],
      ['tx', loggingSink(log, 'tx', { batched: true })],
    ]);
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {});
    q.hold();
    q.push(1, epoch(1, ['fast', 'slow', 'tx']));
    q.push(2, epoch(2, ['fast', 'slow', 'tx']));
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]);
    q.release();
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['fast:1', 'slow:1', 'fast:2']);
    release();
    await q.drain();
    // tx takes epoch 1 as soon as both plain sinks have it, epoch 2 once slow has it too.
    expect(log).toEqual(['fast:1', 'slow:1', 'fast:2', 'tx:1', 'slow:2', 'tx:2']);
    expect(q.delivered).toBe(2);
  });

  it('retries a failed group as a whole, and skips epochs with nothing for a sink', async () => {
    const log: string[] = [];
    const sinks = new Map<string, SinkDriver>([['tx', loggingSink(log, 'tx', { batched: true, failFirst: 1 })]]);
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {});
    q.push(1, epoch(1, ['tx']));
    q.push(2, []);
    q.push(3, epoch(3, ['tx']));
    await q.drain();
    expect(log).toEqual(['tx:[1,3]', 'tx:[1,3]']);
    expect(q.retries).toBe(1);
    expect(q.delivered).toBe(3);
  });

  it('fails with the range of epochs when a group gives up', async () => {
    const sinks = new Map<string, SinkDriver>([['tx', loggingSink([], 'tx', { batched: true, failFirst: 99 })]]);
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {}, new DeliveryPolicy({ retryForMs: 0 }, () => {}));
    q.push(1, epoch(1, ['tx']));
    q.push(2, epoch(2, ['tx']));
    await expect(q.drain()).rejects.toThrow(/sink "tx" of partition 0 failed for epochs 1–2, gave up after 1 attempts/);
    expect(q.delivered).toBe(0);
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

describe('undeliveredEpochs (redelivery after a restart)', () => {
  it('skips acked epochs, merges chunks of one (epoch, sink), orders epochs, and puts the changelog last', () => {
    const rec = (id: string) => ({ id, key: null, value: id, time: 0 });
    // As LMDB returns them: by key, so "__changelog" sorts before the other sinks.
    const stored = [
      { epoch: 3, sinkId: CHANGELOG_SINK, records: [rec('c3')] },
      { epoch: 3, sinkId: 'out', records: [rec('3-0')] },
      { epoch: 3, sinkId: 'out', records: [rec('3-1')] },
      { epoch: 2, sinkId: 'out', records: [rec('2-0')] },
      { epoch: 5, sinkId: CHANGELOG_SINK, records: [rec('c5')] },
      { epoch: 5, sinkId: '__dlq', records: [rec('d5')] },
      { epoch: 4, sinkId: 'out', records: [rec('4-0')] },
    ];
    const got = undeliveredEpochs(stored, 2).map(([e, entries]) => [e, entries.map((x) => `${x.sinkId}:${x.records.map((r) => r.id).join('+')}`)]);
    expect(got).toEqual([
      [3, ['out:3-0+3-1', `${CHANGELOG_SINK}:c3`]],
      [4, ['out:4-0']],
      [5, ['__dlq:d5', `${CHANGELOG_SINK}:c5`]],
    ]);
  });
});
