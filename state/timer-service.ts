/**
 * Event-time and processing-time timers of one operator in one actor.
 *
 * Stored in the `timers` db, written by the checkpoint transaction:
 *
 *   key   [actorId, operator, kind, ts, key, tag ?? null]
 *   value one byte (0x01): the key says everything, and lmdb-js hands back
 *         zero-length values as an odd shared buffer
 *
 * In memory, per kind: a binary min-heap ordered by (ts, key, tag) with the
 * order of state/key-order.ts, plus an index ts -> key -> timer (tags chained
 * on the timer) that makes `register` idempotent and `delete` O(1) without
 * allocating on a repeat registration. Deleted timers stay in the heap as
 * dead records and are skipped when they surface; the heap is rebuilt when
 * dead records outnumber live ones. A timer is a new object per
 * registration, so a dead record can never be mistaken for a re-registered
 * live one.
 *
 * Dirty tracking: `dirty` holds timers whose stored state differs from their
 * in-memory state, in the order that happened (a persisted timer deleted and
 * registered again must be removed before it is re-put). A timer registered
 * and removed between two checkpoints never touches LMDB.
 */
import type { Key } from 'lmdb';
import type { StateKey } from './key-order.ts';
import { checkKey, compareStateKeys } from './key-order.ts';
import { SluiceError, ErrorCodes } from '../engine/errors.ts';

export type TimerKind = 'event' | 'processing';

export interface Timer {
  readonly kind: TimerKind;
  readonly ts: number;
  readonly key: StateKey;
  readonly tag?: string;
}

export interface TimerService {
  /** Registers a timer; registering the same (kind, ts, key, tag) again is a no-op. */
  register(kind: TimerKind, ts: number, key: StateKey, tag?: string): void;
  /** Deletes a timer; returns false if it was not registered. */
  delete(kind: TimerKind, ts: number, key: StateKey, tag?: string): boolean;
  /** Removes and returns the timers with ts <= upTo, in (ts, key, tag) order. */
  popDue(kind: TimerKind, upTo: number): Timer[];
  /** The smallest registered ts, if any. */
  next(kind: TimerKind): number | undefined;
  /** Registered timers of a kind (not a hot-path call). */
  size(kind: TimerKind): number;
  /** Registered timers of a kind with this tag (window operators tag their firings "fire"). */
  sizeTagged(kind: TimerKind, tag: string | undefined): number;
}

export class TimerRecord implements Timer {
  readonly kind: TimerKind;
  readonly ts: number;
  readonly key: StateKey;
  readonly tag: string | undefined;
  /** Registered and not yet fired or deleted. */
  live = true;
  /** Present in LMDB as of the last checkpoint. */
  persisted = false;
  /** Next timer with the same (kind, ts, key) and another tag. */
  sibling: TimerRecord | null = null;

  constructor(kind: TimerKind, ts: number, key: StateKey, tag: string | undefined) {
    this.kind = kind;
    this.ts = ts;
    this.key = key;
    this.tag = tag;
  }
}

function compareTimers(a: TimerRecord, b: TimerRecord): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  const c = compareStateKeys(a.key, b.key);
  if (c !== 0) return c;
  if (a.tag === b.tag) return 0;
  if (a.tag === undefined) return -1;
  if (b.tag === undefined) return 1;
  return compareStateKeys(a.tag, b.tag);
}

/** One kind's queue: heap plus index. */
class TimerQueue {
  readonly heap: TimerRecord[] = [];
  readonly index = new Map<number, Map<StateKey, TimerRecord>>();
  live = 0;
  /** Live timers per tag, for `sluice status` (open windows). */
  readonly tagged = new Map<string | undefined, number>();

  find(ts: number, key: StateKey, tag: string | undefined): TimerRecord | undefined {
    for (let t: TimerRecord | null | undefined = this.index.get(ts)?.get(key); t != null; t = t.sibling) {
      if (t.tag === tag) return t;
    }
    return undefined;
  }

  add(t: TimerRecord): void {
    let byKey = this.index.get(t.ts);
    if (byKey === undefined) {
      byKey = new Map();
      this.index.set(t.ts, byKey);
    }
    t.sibling = byKey.get(t.key) ?? null;
    byKey.set(t.key, t);
    this.push(t);
    this.live++;
    this.tagged.set(t.tag, (this.tagged.get(t.tag) ?? 0) + 1);
  }

  /** Unindexes a live timer and marks it dead; its heap slot is skipped later. */
  remove(t: TimerRecord): void {
    const byKey = this.index.get(t.ts) as Map<StateKey, TimerRecord>;
    let head = byKey.get(t.key) as TimerRecord;
    if (head === t) head = t.sibling as TimerRecord;
    else {
      let p = head;
      while (p.sibling !== t) p = p.sibling as TimerRecord;
      p.sibling = t.sibling;
    }
    if (head === null) {
      byKey.delete(t.key);
      if (byKey.size === 0) this.index.delete(t.ts);
    } else byKey.set(t.key, head);
    t.sibling = null;
    t.live = false;
    this.live--;
    this.tagged.set(t.tag, (this.tagged.get(t.tag) as number) - 1);
    if (this.heap.length > 64 && this.heap.length > 2 * this.live) this.compact();
  }

  /** The first live timer, dropping dead records on the way. */
  peek(): TimerRecord | undefined {
    const heap = this.heap;
    while (heap.length > 0 && !heap[0].live) this.pop();
    return heap[0];
  }

  pop(): TimerRecord {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as TimerRecord;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private push(t: TimerRecord): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(t);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareTimers(heap[parent], t) <= 0) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = t;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const t = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && compareTimers(heap[child + 1], heap[child]) < 0) child++;
      if (compareTimers(heap[child], t) >= 0) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = t;
  }

  private compact(): void {
    const liveOnes = this.heap.filter((t) => t.live);
    liveOnes.sort(compareTimers); // a sorted array is a valid heap
    this.heap.length = 0;
    for (const t of liveOnes) this.heap.push(t);
  }
}

export class TimerServiceImpl implements TimerService {
  readonly operator: string;
  private readonly actorId: string;
  private readonly queues = { event: new TimerQueue(), processing: new TimerQueue() };
  /** Timers whose LMDB state must change at the next checkpoint, in order. */
  readonly dirty = new Set<TimerRecord>();
  private readonly scratch: [string, string, string, number, StateKey, string | null];

  constructor(actorId: string, operator: string) {
    this.actorId = actorId;
    this.operator = operator;
    this.scratch = [actorId, operator, 'event', 0, 0, null];
  }

  register(kind: TimerKind, ts: number, key: StateKey, tag?: string): void {
    const q = this.queue(kind);
    checkTs(ts);
    if (tag !== undefined && typeof tag !== 'string') throw new SluiceError(ErrorCodes.STATE, 'timer tag must be a string');
    const k = checkKey(key);
    if (q.find(ts, k, tag) !== undefined) return;
    const t = new TimerRecord(kind, ts, k, tag);
    q.add(t);
    this.dirty.add(t);
  }

  delete(kind: TimerKind, ts: number, key: StateKey, tag?: string): boolean {
    const q = this.queue(kind);
    const t = q.find(ts, checkKey(key), tag);
    if (t === undefined) return false;
    q.remove(t);
    this.removed(t);
    return true;
  }

  popDue(kind: TimerKind, upTo: number): Timer[] {
    const q = this.queue(kind);
    const due: Timer[] = [];
    for (let t = q.peek(); t !== undefined && t.ts <= upTo; t = q.peek()) {
      q.pop();
      q.remove(t);
      this.removed(t);
      due.push(t);
    }
    return due;
  }

  next(kind: TimerKind): number | undefined {
    return this.queue(kind).peek()?.ts;
  }

  size(kind: TimerKind): number {
    return this.queue(kind).live;
  }

  sizeTagged(kind: TimerKind, tag: string | undefined): number {
    return this.queue(kind).tagged.get(tag) ?? 0;
  }

  /** Adds a timer read from LMDB at load time (already persisted, not dirty). */
  loadStored(kind: TimerKind, ts: number, key: StateKey, tag: string | undefined): void {
    const t = new TimerRecord(kind, ts, key, tag);
    t.persisted = true;
    this.queue(kind).add(t);
  }

  /** LMDB key of a timer; a reused array. */
  lmdbKey(t: TimerRecord): Key {
    const s = this.scratch;
    s[2] = t.kind;
    s[3] = t.ts;
    s[4] = t.key;
    s[5] = t.tag ?? null;
    // null is a valid ordered-binary element (it sorts first); lmdb's typings omit it.
    return s as unknown as Key;
  }

  /** After the checkpoint committed: stored state now equals memory. */
  markClean(): void {
    for (const t of this.dirty) t.persisted = t.live;
    this.dirty.clear();
  }

  /** Forgets all timers in memory (the store then reloads what LMDB holds). */
  reset(): void {
    for (const q of [this.queues.event, this.queues.processing]) {
      q.heap.length = 0;
      q.index.clear();
      q.live = 0;
    }
    this.dirty.clear();
  }

  /** The LMDB range holding this operator's timers. */
  range(end: Uint8Array): { start: Key; end: Key } {
    return { start: [this.actorId, this.operator], end: [this.actorId, this.operator, end] };
  }

  private removed(t: TimerRecord): void {
    // Never stored: forget it. Stored: its removal must reach LMDB.
    if (t.persisted) this.dirty.add(t);
    else this.dirty.delete(t);
  }

  private queue(kind: TimerKind): TimerQueue {
    if (kind === 'event') return this.queues.event;
    if (kind === 'processing') return this.queues.processing;
    throw new SluiceError(ErrorCodes.STATE, `unknown timer kind ${String(kind)}`);
  }
}

function checkTs(ts: number): void {
  if (typeof ts !== 'number' || ts !== ts) throw new SluiceError(ErrorCodes.STATE, `timer ts must be a number, got ${String(ts)}`);
}
