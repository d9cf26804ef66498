/**
 * `npm run bench -- producer`: the engine's producer alone (engine/kafka/producer.ts),
 * as the engine uses it, without a job around it:
 *
 *   transactional  one producer with a transactional id, one transaction per
 *                  send, sends awaited one after another: a partition actor's
 *                  changelog commits (changelog.ts), with records shaped like
 *                  its state writes (a short msgpack-like key, a small value)
 *   idempotent     the same sends with an idempotent producer (Kafka sink
 *                  outside a job, repartition sink)
 *
 * Per mode and run: a fresh topic, `records` records in sends of `perSend`
 * records over `partitions` partitions (explicit partition, as the changelog
 * writes), timed from the first send to the last acknowledgement. CPU is this
 * process's (user + system), so the broker's CPU is not in it.
 */
import { createAdmin } from '../../engine/kafka/admin.ts';
import { createProducer } from '../../engine/kafka/producer.ts';
import type { ProducerRecord } from '../../engine/kafka/types.ts';
import { figure, log, type Figure, type ScenarioResult } from '../bench-harness.ts';
import type { Scenario } from '../scenario.ts';
import { resolveBroker } from './kafka.ts';

type Mode = 'transactional' | 'idempotent';

async function runOnce(brokers: string[], mode: Mode, records: number, perSend: number, partitions: number, valueBytes: number): Promise<{ seconds: number; cpuS: number }> {
  const topic = `sluice-bench-producer-${mode}-${Date.now().toString(36)}`;
  const cfg = { brokers, clientId: 'sluice-bench-producer' };
  const admin = createAdmin(cfg);
  await admin.ensureTopic(topic, partitions);
  const producer = createProducer(cfg, mode === 'transactional' ? { transactionalId: topic } : { idempotent: true });
  await producer.connect();
  const value = Buffer.alloc(valueBytes, 'v');
  try {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let sent = 0; sent < records; ) {
      const n = Math.min(perSend, records - sent);
      const batch: ProducerRecord[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const seq = sent + i;
        batch[i] = { topic, partition: seq % partitions, key: Buffer.from(`state\u0000op\u0000k${seq}`), value };
      }
      await producer.send(batch);
      sent += n;
    }
    const c = process.cpuUsage(c0);
    return { seconds: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 };
  } finally {
    await producer.disconnect();
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.close();
  }
}

export const producerScenario: Scenario = {
  name: 'producer',
  description: "the engine's producer alone: transactional sends (one transaction each, as the changelog commits) and idempotent sends",
  defaults: { records: 200_000, perSend: 2_000, partitions: 4, valueBytes: 40, runs: 3, modes: 'transactional,idempotent', brokers: '' },
  async run(o): Promise<ScenarioResult> {
    const broker = await resolveBroker(o);
    const modes = String(o.modes).split(',') as Mode[];
    const rate = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    const perCpu = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    try {
      // Rounds of every mode, so load from other work on the machine spreads over all of them.
      for (let r = 0; r < Number(o.runs); r++) {
        for (const m of modes) {
          const x = await runOnce(broker.brokers, m, Number(o.records), Number(o.perSend), Number(o.partitions), Number(o.valueBytes));
          rate.get(m)!.push(Number(o.records) / x.seconds);
          perCpu.get(m)!.push(Number(o.records) / x.cpuS);
          log(`producer: round ${r + 1} ${m}: ${Math.round(Number(o.records) / x.seconds)} records/s, ${Math.round(Number(o.records) / x.cpuS)} per CPU-s`);
        }
      }
    } finally {
      await broker.stop?.();
    }
    const figures: Figure[] = [];
    for (const m of modes) {
      figures.push(figure({ mode: m }, 'records/s', 'records/s', rate.get(m)!));
      figures.push(figure({ mode: m }, 'records per CPU-second', 'records/s', perCpu.get(m)!));
    }
    return {
      settings: { records: o.records, perSend: o.perSend, partitions: o.partitions, valueBytes: o.valueBytes, runs: o.runs, modes },
      notes: [
        `Broker: Kafka 3.9.1 single node at ${broker.brokers.join(',')}, shared with other work on the machine.`,
        "Records per CPU-second count this process's CPU only (the producer's encoding and I/O), not the broker's.",
      ],
      figures,
    };
  },
};
