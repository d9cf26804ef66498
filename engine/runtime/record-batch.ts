/**
 * Wire format of a batch of Kafka records posted from the main thread to a
 * worker. Everything lives in three typed arrays whose buffers are
 * transferred, not cloned, so one postMessage moves thousands of records:
 *
 *   meta   Float64Array  [offset_0, timestamp_0, offset_1, timestamp_1, ...]
 *   pos    Int32Array    [valueStart_0, valueEnd_0, keyStart_0, keyEnd_0, ...]:
 *                        value i is bytes[valueStart_i .. valueEnd_i); a start
 *                        of -1 is a null value (tombstone) or key
 *   bytes  Uint8Array    the fetched data that holds the keys and values
 *
 * `bytes` is copied from the fetch response in spans, not value by value:
 * the keys and values of consecutive records lie in one buffer in ascending
 * order, a few bytes of record framing apart, so a span from the first to
 * the last is one copy (framing included, at most SPAN_GAP bytes between two
 * parts), and the records are positions in it. Parts that lie elsewhere (a
 * compressed batch's own buffer, records built in memory) start a new span.
 *
 * The pipeline's keyBy derives keys from values; the record keys travel only
 * so that a dead letter can name its record (topic, partition, offset, key).
 */
export interface RecordBatchWire {
  meta: Float64Array;
  pos: Int32Array;
  bytes: Uint8Array;
}

export interface RawRecord {
  offset: number;
  timestamp: number;
  value: Uint8Array | null;
  key?: Uint8Array | null;
}

/** Records read by index: a fetched batch (engine/kafka/fetched-batch.ts) or an array of RawRecord. */
export interface RecordSource {
  offset(i: number): number;
  timestamp(i: number): number;
  key(i: number): Uint8Array | null;
  value(i: number): Uint8Array | null;
}

/** Most bytes between two parts copied along in one span, rather than a new span begun. */
const SPAN_GAP = 256;

/** Collects the spans of a batch's keys and values, and where each part lands in `bytes`. */
class Spans {
  private readonly bufs: ArrayBufferLike[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly bases: number[] = [];
  private buf: ArrayBufferLike | undefined;
  private start = 0;
  private end = 0;
  private base = 0;

  constructor(private readonly pos: Int32Array) {}

  place(p: Uint8Array | null, at: number): void {
    const pos = this.pos;
    if (p === null) {
      pos[at] = -1;
      pos[at + 1] = -1;
      return;
    }
    const len = p.byteLength;
    if (len === 0) {
      pos[at] = 0;
      pos[at + 1] = 0;
      return;
    }
    const s = p.byteOffset;
    if (p.buffer !== this.buf || s < this.end || s - this.end > SPAN_GAP) this.begin(p.buffer, s);
    const d = this.base + (s - this.start);
    pos[at] = d;
    pos[at + 1] = d + len;
    this.end = s + len;
  }

  private begin(buf: ArrayBufferLike, s: number): void {
    const base = this.close();
    this.buf = buf;
    this.start = s;
    this.end = s;
    this.base = base;
  }

  /** Ends the current span; returns the bytes taken so far. */
  private close(): number {
    if (this.buf === undefined) return 0;
    this.bufs.push(this.buf);
    this.starts.push(this.start);
    this.ends.push(this.end);
    this.bases.push(this.base);
    this.buf = undefined;
    return this.base + (this.end - this.start);
  }

  copy(): Uint8Array {
    const total = this.close();
    // Not zero-filled (the spans cover every byte), and its own ArrayBuffer, so it can be transferred.
    const slow = Buffer.allocUnsafeSlow(total);
    const bytes = new Uint8Array(slow.buffer, slow.byteOffset, total);
    for (let k = 0; k < this.bufs.length; k++) bytes.set(new Uint8Array(this.bufs[k], this.starts[k], this.ends[k] - this.starts[k]), this.bases[k]);
    return bytes;
  }
}

/** Records `from` (inclusive) to `to` (exclusive) of `src`. */
export function encodeRecords(src: RecordSource, from: number, to: number): RecordBatchWire {
  const n = to - from;
  const meta = new Float64Array(n * 2);
  const pos = new Int32Array(n * 4);
  const spans = new Spans(pos);
  for (let i = 0; i < n; i++) {
    const j = from + i;
    meta[2 * i] = src.offset(j);
    meta[2 * i + 1] = src.timestamp(j);
    // The key first: it comes before the value in a Kafka record.
    spans.place(src.key(j), 4 * i + 2);
    spans.place(src.value(j), 4 * i);
  }
  return { meta, pos, bytes: spans.copy() };
}

/** An array of records as a RecordSource. */
class ArraySource implements RecordSource {
  constructor(private readonly records: readonly RawRecord[]) {}
  offset(i: number): number {
    return this.records[i].offset;
  }
  timestamp(i: number): number {
    return this.records[i].timestamp;
  }
  key(i: number): Uint8Array | null {
    return this.records[i].key ?? null;
  }
  value(i: number): Uint8Array | null {
    return this.records[i].value;
  }
}

export function encodeRecordBatch(records: readonly RawRecord[]): RecordBatchWire {
  return encodeRecords(new ArraySource(records), 0, records.length);
}

export function transferList(w: RecordBatchWire): ArrayBuffer[] {
  return [w.meta.buffer, w.pos.buffer, w.bytes.buffer] as ArrayBuffer[];
}

/** Bytes the batch occupies (its buffers): what the main thread's in-flight bound counts (kafka-input.ts). */
export function wireBytes(w: RecordBatchWire): number {
  return w.meta.byteLength + w.pos.byteLength + w.bytes.byteLength;
}

export function batchLength(w: RecordBatchWire): number {
  return w.meta.length >> 1;
}

/** Value i as a view into the batch's bytes (no copy), or null for a tombstone. */
export function valueAt(w: RecordBatchWire, i: number): Uint8Array | null {
  const s = w.pos[4 * i];
  return s < 0 ? null : w.bytes.subarray(s, w.pos[4 * i + 1]);
}

/** Key i as a view (no copy), or null when the record has none. */
export function keyAt(w: RecordBatchWire, i: number): Uint8Array | null {
  const s = w.pos[4 * i + 2];
  return s < 0 ? null : w.bytes.subarray(s, w.pos[4 * i + 3]);
}
