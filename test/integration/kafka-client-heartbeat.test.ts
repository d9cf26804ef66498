/**
 * Heartbeats keep flowing because the consumer never blocks the event loop:
 * onBatch hands work to another thread and returns, so 20 s of busy work on
 * that thread, or partitions paused for longer than the session timeout,
 * cause no rebalance (kafkajs #1527, #1719 are what happens otherwise).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createTopic, registerCleanup, uniqueName } from '../helpers/kafka.ts';
import { backgroundProducer, ConsumerProbe, connectedProducer, sleep, waitFor } from '../engine/kafka/support/harness.ts';

const PARTITIONS = 4;
const SESSION_TIMEOUT_MS = 10_000;

// Busy-waits `ms` on the first message, acknowledges every message.
const BUSY_WORKER = `
const { parentPort } = require('node:worker_threads');
let first = true;
parentPort.on('message', (msg) => {
  if (first) {
    first = false;
    const end = Date.now() + msg.busyMs;
    while (Date.now() < end) {}
  }
  parentPort.postMessage({ records: msg.records });
});
`;

describe('kafka client: heartbeats', () => {
  it('keeps its membership while onBatch has started 20 s of busy work on another thread', async () => {
    const topic = await createTopic('heartbeat', PARTITIONS);
    const producer = backgroundProducer(await connectedProducer('heartbeat-producer'), topic, PARTITIONS, 4, 100);
    registerCleanup(() => producer.stop());
    const worker = new Worker(BUSY_WORKER, { eval: true });
    registerCleanup(async () => {
      await worker.terminate();
    });
    let processed = 0;
    let workerBusyUntil = 0;
    worker.on('message', (m: { records: number }) => {
      if (workerBusyUntil === 0) workerBusyUntil = Date.now();
      processed += m.records;
    });

    let posted = 0;
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    const probe = new ConsumerProbe('heartbeat', topic, uniqueName('heartbeat-group'), new Map(), {
      consumer: { sessionTimeoutMs: SESSION_TIMEOUT_MS },
      onBatch: (batch) => {
        worker.postMessage({ busyMs: 20_000, records: batch.records.length });
        posted += batch.records.length;
      },
    });
    await probe.start();
    await waitFor(() => posted > 0, 30_000, () => 'no batch yet');
    loopDelay.enable();
    const busyFrom = Date.now();
    const deliveredAtStart = probe.count;

    await waitFor(() => workerBusyUntil > 0, 40_000, () => 'worker never finished its busy work');
    loopDelay.disable();
    const busyForMs = workerBusyUntil - busyFrom;
    // Records kept arriving on the main thread while the worker was stuck.
    const deliveredWhileBusy = probe.count - deliveredAtStart;

    expect(busyForMs).toBeGreaterThanOrEqual(19_000);
    expect(deliveredWhileBusy).toBeGreaterThan(100);
    expect(probe.eventsOf('group-join')).toHaveLength(1);
    expect(probe.eventsOf('rebalancing')).toEqual([]);
    expect(probe.eventsOf('revoked')).toEqual([]);
    expect(probe.eventsOf('crash')).toEqual([]);
    expect(probe.violations).toEqual([]);
    // The main thread never stalled anywhere near a heartbeat interval.
    expect(loopDelay.max / 1e6).toBeLessThan(1_000);
    await waitFor(() => processed === posted, 10_000, () => `worker processed ${processed} of ${posted}`);
    await producer.stop();
    expect(producer.failure()).toBeUndefined();
  });

  it('keeps its membership with every partition paused for longer than the session timeout', async () => {
    const topic = await createTopic('heartbeat-paused', PARTITIONS);
    const producer = backgroundProducer(await connectedProducer('heartbeat-paused-producer'), topic, PARTITIONS, 4, 100);
    registerCleanup(() => producer.stop());
    const probe = await new ConsumerProbe('paused', topic, uniqueName('heartbeat-paused-group'), new Map(), {
      consumer: { sessionTimeoutMs: SESSION_TIMEOUT_MS },
    }).start();
    await waitFor(() => probe.count > 20, 30_000, () => `got ${probe.count}`);

    const all = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));
    probe.consumer.pause(all);
    await sleep(300); // a batch fetched before the pause may still be in flight
    const atPause = probe.count;
    await sleep(SESSION_TIMEOUT_MS * 1.5);
    expect(probe.count).toBe(atPause);

    probe.consumer.resume(all);
    await waitFor(() => probe.count > atPause + 20, 30_000, () => `got ${probe.count - atPause} after resume`);
    expect(probe.eventsOf('group-join')).toHaveLength(1);
    expect(probe.eventsOf('rebalancing')).toEqual([]);
    expect(probe.violations).toEqual([]);
    await producer.stop();
    expect(producer.failure()).toBeUndefined();
  });
});
