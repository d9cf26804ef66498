import { describe, expect, it } from 'vitest';
import type { SinkDelivery, SinkDriver } from '../../../engine/contracts/sinks.ts';
import { DeliveryQueue, undeliveredEpochs, type OutboxEntry } from '../../../engine/runtime/outbox.ts';
import { CHANGELOG_SINK } from '../../../engine/runtime/changelog.ts';
import { SluiceError, ErrorCodes } from '../../../engine/errors.ts';

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
    const q = new DeliveryQueue('a0', 0, sinks, 0, () => {}, 0);
    q.push(1, epoch(1, ['tx']));
    q.push(2, epoch(2, ['tx']));
    await expect(q.drain()).rejects.toThrow(/sink "tx" failed for epochs 1–2/);
    expect(q.delivered).toBe(0);
  });
});

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
