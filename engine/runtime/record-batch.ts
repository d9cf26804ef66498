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
 *
 * Keys are not carried: sluice partitions by the producer's key already, and
 * the pipeline's keyBy derives keys from values.
 */
export interface RecordBatchWire {
  meta: Float64Array;
  ends: Int32Array;
  bytes: Uint8Array;
}

export interface RawRecord {
  offset: number;
  timestamp: number;
  value: Uint8Array | null;
}

export function encodeRecordBatch(records: readonly RawRecord[]): RecordBatchWire {
  const n = records.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += records[i].value?.length ?? 0;
  const meta = new Float64Array(n * 2);
  const ends = new Int32Array(n);
  const bytes = new Uint8Array(total);
  let at = 0;
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
  }
  return { meta, ends, bytes };
}

export function transferList(w: RecordBatchWire): ArrayBuffer[] {
  return [w.meta.buffer as ArrayBuffer, w.ends.buffer as ArrayBuffer, w.bytes.buffer as ArrayBuffer];
}

export function batchLength(w: RecordBatchWire): number {
  return w.ends.length;
}

/** Value i as a view into the batch's bytes (no copy), or null for a tombstone. */
export function valueAt(w: RecordBatchWire, i: number): Uint8Array | null {
  const e = w.ends[i];
  if (e < 0) return null;
  const prev = i === 0 ? 0 : w.ends[i - 1];
  const start = prev < 0 ? -prev - 1 : prev;
  return w.bytes.subarray(start, e);
}
