/**
 * Wire format of a batch of Kafka records posted from the main thread to a
 * worker. Everything lives in three typed arrays whose buffers are
 * transferred, not cloned, so one postMessage moves thousands of records:
 *
 *   meta   Float64Array  [offset_0, timestamp_0, offset_1, timestamp_1, ...]
 *   ends   Int32Array    [end_0, end_1, ...]: value i is bytes[end_{i-1} .. end_i),
 *                        with end_{-1} = 0; a null value (tombstone) is stored
 *                        as -(end)-1, an empty range marked null
 *   bytes  Uint8Array    the values, concatenated
 *   keyEnds, keyBytes    the keys, the same way
 *
 * The pipeline's keyBy derives keys from values; the record keys travel only
 * so that a dead letter can name its record (topic, partition, offset, key).
 */
export interface RecordBatchWire {
  meta: Float64Array;
  ends: Int32Array;
  bytes: Uint8Array;
  keyEnds: Int32Array;
  keyBytes: Uint8Array;
}

export interface RawRecord {
  offset: number;
  timestamp: number;
  value: Uint8Array | null;
  key?: Uint8Array | null;
}

export function encodeRecordBatch(records: readonly RawRecord[]): RecordBatchWire {
  const n = records.length;
  let total = 0;
  let keyTotal = 0;
  for (let i = 0; i < n; i++) {
    total += records[i].value?.length ?? 0;
    keyTotal += records[i].key?.length ?? 0;
  }
  const meta = new Float64Array(n * 2);
  const ends = new Int32Array(n);
  const bytes = new Uint8Array(total);
  const keyEnds = new Int32Array(n);
  const keyBytes = new Uint8Array(keyTotal);
  let at = 0;
  let kat = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    meta[2 * i] = r.offset;
    meta[2 * i + 1] = r.timestamp;
    if (r.value === null) {
      ends[i] = -at - 1;
    } else {
      bytes.set(r.value, at);
      at += r.value.length;
      ends[i] = at;
    }
    const k = r.key;
    if (k === null || k === undefined) {
      keyEnds[i] = -kat - 1;
    } else {
      keyBytes.set(k, kat);
      kat += k.length;
      keyEnds[i] = kat;
    }
  }
  return { meta, ends, bytes, keyEnds, keyBytes };
}

export function transferList(w: RecordBatchWire): ArrayBuffer[] {
  return [w.meta.buffer, w.ends.buffer, w.bytes.buffer, w.keyEnds.buffer, w.keyBytes.buffer] as ArrayBuffer[];
}

/** Bytes the batch occupies (its buffers): what the main thread's in-flight bound counts (kafka-input.ts). */
export function wireBytes(w: RecordBatchWire): number {
  return w.meta.byteLength + w.ends.byteLength + w.bytes.byteLength + w.keyEnds.byteLength + w.keyBytes.byteLength;
}

export function batchLength(w: RecordBatchWire): number {
  return w.ends.length;
}

function slice(ends: Int32Array, bytes: Uint8Array, i: number): Uint8Array | null {
  const e = ends[i];
  if (e < 0) return null;
  const prev = i === 0 ? 0 : ends[i - 1];
  const start = prev < 0 ? -prev - 1 : prev;
  return bytes.subarray(start, e);
}

/** Value i as a view into the batch's bytes (no copy), or null for a tombstone. */
export function valueAt(w: RecordBatchWire, i: number): Uint8Array | null {
  return slice(w.ends, w.bytes, i);
}

/** Key i as a view (no copy), or null when the record has none. */
export function keyAt(w: RecordBatchWire, i: number): Uint8Array | null {
  return slice(w.keyEnds, w.keyBytes, i);
}
