/**
 * A checkpoint's changelog writes, packed: the bytes of many changelog
 * records in one Buffer, instead of an object per record.
 *
 * Why: a checkpoint's changes travel through the actor's outbox (LMDB, in
 * the checkpoint's own transaction) and wait there, and in memory, until
 * their Kafka transaction commits (changelog.ts). As objects, each change
 * cost two allocations when recorded, a msgpack walk over its fields when
 * the outbox chunk was encoded, and about 400 bytes of heap while it waited;
 * a bounded or interval-honouring catch-up records a change for most state
 * writes (bench/notes/35-catchup-memory.md). Packed, a change is copied once
 * into the pack, the outbox stores a pack as one binary value, and the
 * Kafka records are made only when the transaction is prepared.
 *
 * A pack is `{ p: ops, n, b }`: the operators it names (each a changelog
 * topic), its record count, and its bytes. Per record in `b`:
 *
 *   u16 operator index into `p` | u32 key length | key | i32 value length (-1: tombstone) | value
 *
 * The key is the changelog key (encodeChangelogKey, msgpack([db, ...lmdbKey]));
 * the value the store's encoding. A pack is closed at PACK_BYTES, so an
 * outbox value stays moderate (outbox.ts chunks records for the same reason).
 */
import type { Key } from 'lmdb';
import type { SinkRecord } from '../contracts/sinks.ts';
import { encodeChangelogKey } from './changelog-key.ts';

/** The actor's changelog "sink" (changelog.ts, which re-exports it): here so that this file imports nothing that imports it. */
export const CHANGELOG_SINK = '__changelog';

export interface ChangelogPack {
  p: string[];
  n: number;
  b: Buffer;
}

/** Bytes at which a pack is closed and the next one begun. */
export const PACK_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/** Packs changes as the store's recorder hands them over; each closed pack becomes one outbox record. */
export class ChangelogPacker {
  private ops: string[] = [];
  private opIndex = new Map<string, number>();
  /** Allocated when the first record of a pack comes (a commit without changes allocates nothing). */
  private buf: Buffer = EMPTY;
  private pos = 0;
  private n = 0;

  constructor(private readonly out: SinkRecord[]) {}

  add(db: 'state' | 'timers', key: Key, value: Buffer | null): void {
    const ck = encodeChangelogKey(db, key);
    const need = 10 + ck.length + (value === null ? 0 : value.length);
    // First, as it may close the pack: the operator index is the next pack's.
    if (this.pos + need > this.buf.length) this.grow(need);
    const op = String((key as unknown[])[1]);
    let oi = this.opIndex.get(op);
    if (oi === undefined) {
      oi = this.ops.length;
      this.ops.push(op);
      this.opIndex.set(op, oi);
    }
    const b = this.buf;
    let p = this.pos;
    b.writeUInt16LE(oi, p);
    b.writeUInt32LE(ck.length, p + 2);
    p += 6;
    p += ck.copy(b, p);
    if (value === null) {
      b.writeInt32LE(-1, p);
      p += 4;
    } else {
      b.writeInt32LE(value.length, p);
      p += 4;
      p += value.copy(b, p);
    }
    this.pos = p;
    this.n++;
    if (this.pos >= PACK_BYTES) this.close();
  }

  /** Closes the open pack, if it holds anything. */
  finish(): void {
    if (this.n > 0) this.close();
  }

  private grow(need: number): void {
    // The open pack is closed, and the next one is big enough for this record alone if it must be.
    if (this.n > 0) this.close();
    if (need > this.buf.length) this.buf = Buffer.allocUnsafeSlow(Math.max(need, PACK_BYTES));
  }

  private close(): void {
    // A pack waits in memory until its Kafka transaction commits: one mostly empty (the last of a
    // commit, or one closed early by a large record) is copied to its size, and its buffer serves
    // the next pack; a full one keeps its buffer, and the next pack gets a new one.
    const small = this.pos < this.buf.length >> 1;
    let b = this.buf.subarray(0, this.pos);
    if (small) {
      // Not Buffer.from: a small copy would be a slice of Node's shared pool, which it keeps alive.
      b = Buffer.allocUnsafeSlow(this.pos);
      this.buf.copy(b, 0, 0, this.pos);
    }
    this.out.push({ id: '', key: null, time: 0, value: { p: this.ops, n: this.n, b } satisfies ChangelogPack });
    this.ops = [];
    this.opIndex = new Map();
    if (!small) this.buf = EMPTY;
    this.pos = 0;
    this.n = 0;
  }
}

export function isPack(v: unknown): v is ChangelogPack {
  return typeof v === 'object' && v !== null && 'p' in v && 'b' in v;
}

/** Calls `each` per record of the pack: its operator (an index into `pack.p`), changelog key and value (null: tombstone), as views of the pack. */
export function forEachPacked(pack: ChangelogPack, each: (op: number, key: Buffer, value: Buffer | null) => void): void {
  // An outbox read back from LMDB may hand the bytes over as a plain Uint8Array.
  const raw = pack.b as Uint8Array;
  const b = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let p = 0;
  for (let i = 0; i < pack.n; i++) {
    const op = b.readUInt16LE(p);
    const kl = b.readUInt32LE(p + 2);
    p += 6;
    const key = b.subarray(p, p + kl);
    p += kl;
    const vl = b.readInt32LE(p);
    p += 4;
    let value: Buffer | null = null;
    if (vl >= 0) {
      value = b.subarray(p, p + vl);
      p += vl;
    }
    each(op, key, value);
  }
}

/** How many records an outbox entry stands for: a changelog pack counts its records (other sinks' records are never packs). */
export function recordCount(e: { sinkId: string; records: readonly unknown[] }): number {
  if (e.sinkId !== CHANGELOG_SINK) return e.records.length;
  const records = e.records as readonly SinkRecord[];
  let n = 0;
  for (let i = 0; i < records.length; i++) {
    const v = records[i].value;
    n += isPack(v) ? v.n : 1;
  }
  return n;
}
