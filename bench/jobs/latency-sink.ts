/**
 * A sink that measures, for every record it is handed, how long ago the
 * record's event time was: `Date.now() - record.time` at the moment the sink
 * writes it. With event time = the producer's timestamp (the latency phase
 * produces live records whose event time is "now"), that is the end-to-end
 * latency from the producer to the sink's write, checkpoint included.
 *
 * It goes through the outbox like a real sink (so latency includes the
 * checkpoint that makes output durable), keeps the samples in memory, and
 * writes them at close to <outputDir>/latency-<sinkId>-w<workerId>.json:
 * a JSON array of [eventTimeMs, latencyMs] pairs, so the reader can drop a
 * warm-up period by event time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SinkContext, SinkDelivery, SinkDriver, SinkSpec } from '../../engine/contracts/sinks.ts';

class LatencyDriver implements SinkDriver {
  private samples: Array<[number, number]> = [];
  private file = '';

  async open(ctx: SinkContext): Promise<void> {
    mkdirSync(ctx.runtime.outputDir, { recursive: true });
    this.file = join(ctx.runtime.outputDir, `latency-${ctx.sinkId}-w${ctx.workerId}.json`);
  }

  async deliver(d: SinkDelivery): Promise<void> {
    const now = Date.now();
    for (const r of d.records) this.samples.push([r.time, now - r.time]);
  }

  async close(): Promise<void> {
    writeFileSync(this.file, JSON.stringify(this.samples));
  }
}

export function latencySink(): SinkSpec {
  return { kind: 'latency', guarantee: 'none (measures, then drops)', outbox: true, create: () => new LatencyDriver() };
}
