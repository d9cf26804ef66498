/**
 * Embedded sources read by position inside the worker: no thread crossing at
 * all. A reader is a pure function of (partition, offset), so resuming at the
 * checkpointed offset replays exactly what a crash lost.
 */
import { readFileSync } from 'node:fs';
import type { FileSourceSpec, GeneratorSourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { parseSseText } from './sse-parse.ts';

export interface PullResult {
  values: unknown[];
  times: number[];
  offsets: number[];
  /** Records at these offsets could not be decoded: dead-letter them. */
  failures: Array<{ offset: number; raw: string; error: Error }>;
  /** No record will ever come after this batch. */
  done: boolean;
}

export interface PullReader {
  /** Reads up to `max` records starting at offset `from`. An empty, not-done result means: try again later. */
  read(from: number, max: number, now: number): PullResult;
}

export class GeneratorReader implements PullReader {
  private startedAt = -1;
  private startOffset = 0;

  constructor(
    private readonly spec: GeneratorSourceSpec,
    private readonly partition: number,
  ) {}

  read(from: number, max: number, now: number): PullResult {
    const { count, ratePerSec, generate, timestamp } = this.spec;
    let n = max;
    if (count !== undefined) n = Math.min(n, count - from);
    if (ratePerSec !== undefined) {
      if (this.startedAt < 0) {
        this.startedAt = now;
        this.startOffset = from;
      }
      const allowed = Math.floor(((now - this.startedAt) / 1000) * ratePerSec) + 1 - (from - this.startOffset);
      n = Math.min(n, allowed);
    }
    n = Math.max(0, n);
    const values = new Array<unknown>(n);
    const times = new Array<number>(n);
    const offsets = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const v = generate(this.partition, from + i);
      values[i] = v;
      times[i] = timestamp ? timestamp(v) : now;
      offsets[i] = from + i;
    }
    return { values, times, offsets, failures: [], done: count !== undefined && from + n >= count };
  }
}

interface Loaded {
  records: Array<{ value?: unknown; raw: string; error?: Error }>;
}

const fileCache = new Map<string, Loaded>();

function load(spec: FileSourceSpec): Loaded {
  const key = `${spec.path}|${spec.format}|${spec.arrayField ?? ''}`;
  let l = fileCache.get(key);
  if (l) return l;
  let text: string;
  try {
    text = readFileSync(spec.path, 'utf8');
  } catch (err) {
    throw new SluiceError(ErrorCodes.SOURCE, `file source: cannot read ${spec.path}`, { cause: err });
  }
  const records: Loaded['records'] = [];
  const tryJson = (raw: string): void => {
    try {
      records.push({ value: JSON.parse(raw), raw });
    } catch (err) {
      records.push({ raw, error: err as Error });
    }
  };
  if (spec.format === 'ndjson') {
    for (const line of text.split('\n')) if (line.trim() !== '') tryJson(line);
  } else if (spec.format === 'sse') {
    for (const ev of parseSseText(text)) tryJson(ev.data);
  } else {
    const doc = JSON.parse(text) as unknown;
    const arr = spec.arrayField ? (doc as Record<string, unknown>)[spec.arrayField] : doc;
    if (!Array.isArray(arr)) {
      throw new SluiceError(ErrorCodes.SOURCE, `file source: ${spec.path} has no array${spec.arrayField ? ` at "${spec.arrayField}"` : ''}`);
    }
    for (const v of arr) records.push({ value: v, raw: '' });
  }
  fileCache.set(key, (l = { records }));
  return l;
}

export class FileReader implements PullReader {
  private readonly mine: Loaded['records'];
  private readonly total: number;

  constructor(
    private readonly spec: FileSourceSpec,
    partition: number,
  ) {
    const all = load(spec).records;
    const parts = spec.partitions ?? 1;
    this.mine = all.filter((_, i) => i % parts === partition);
    this.total = this.mine.length * (spec.repeat ?? 1);
  }

  read(from: number, max: number, now: number): PullResult {
    const n = Math.max(0, Math.min(max, this.total - from));
    const out: PullResult = { values: [], times: [], offsets: [], failures: [], done: from + n >= this.total };
    const ts = this.spec.timestamp;
    for (let i = 0; i < n; i++) {
      const off = from + i;
      const r = this.mine[off % this.mine.length];
      if (r.error) {
        out.failures.push({ offset: off, raw: r.raw, error: r.error });
        continue;
      }
      let t = now;
      if (ts) {
        try {
          t = ts(r.value);
        } catch (err) {
          out.failures.push({ offset: off, raw: r.raw || JSON.stringify(r.value), error: err as Error });
          continue;
        }
      }
      out.values.push(r.value);
      out.times.push(t);
      out.offsets.push(off);
    }
    return out;
  }
}
