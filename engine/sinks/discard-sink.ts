/** Discards everything; for benchmarks. It skips the outbox, since nobody reads its output. */
import type { SinkDelivery, SinkDriver, SinkSpec } from '../contracts/sinks.ts';

class DiscardDriver implements SinkDriver {
  delivered = 0;
  async open(): Promise<void> {}
  async deliver(d: SinkDelivery): Promise<void> {
    this.delivered += d.records.length;
  }
  async close(): Promise<void> {}
}

export function discardSink(): SinkSpec<SinkDriver> {
  return { kind: 'discard', guarantee: 'none (output is dropped)', outbox: false, create: () => new DiscardDriver() };
}
