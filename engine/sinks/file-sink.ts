/**
 * Local file sink: JSON lines, one file per (partition, checkpoint epoch).
 *
 * Layout: <dir>/part-<partition>/<epoch, 10 digits>.jsonl, one JSON value per
 * line (or, with `envelope: true`, {"id","key","time","value"} per line).
 *
 * Why per epoch: an outbox entry can be delivered twice (crash after the
 * write, before the outbox ack). Writing `<epoch>.jsonl.tmp`, fsyncing and
 * renaming over `<epoch>.jsonl` makes the second delivery replace the first
 * with identical content, so the directory never holds a duplicate. This is
 * Arroyo's two-phase file commit with the outbox as the pre-commit data.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { SinkContext, SinkDelivery, SinkDriver, SinkSpec } from '../contracts/sinks.ts';

export interface FileSinkOptions {
  /** Output directory; relative paths are under the runtime's output dir. */
  dir: string;
  envelope?: boolean;
}

class FileSinkDriver implements SinkDriver {
  private root = '';
  private readonly made = new Set<string>();

  constructor(private readonly opts: FileSinkOptions) {}

  async open(ctx: SinkContext): Promise<void> {
    this.root = isAbsolute(this.opts.dir) ? this.opts.dir : join(ctx.runtime.outputDir, this.opts.dir);
    await mkdir(this.root, { recursive: true });
  }

  async deliver(d: SinkDelivery): Promise<void> {
    const dir = join(this.root, `part-${d.partition}`);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    const file = join(dir, `${String(d.epoch).padStart(10, '0')}.jsonl`);
    const lines: string[] = new Array(d.records.length);
    const env = this.opts.envelope === true;
    for (let i = 0; i < d.records.length; i++) {
      const r = d.records[i];
      lines[i] = JSON.stringify(env ? { id: r.id, key: r.key, time: r.time, value: r.value } : r.value);
    }
    const fh = await open(`${file}.tmp`, 'w');
    try {
      await fh.writeFile(lines.length ? lines.join('\n') + '\n' : '');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(`${file}.tmp`, file);
  }

  async close(): Promise<void> {}
}

export function fileSink(opts: FileSinkOptions): SinkSpec<SinkDriver> {
  return {
    kind: 'file',
    guarantee: 'exactly-once: one file per partition and checkpoint epoch, replaced atomically on redelivery',
    outbox: true,
    create: () => new FileSinkDriver(opts),
  };
}
