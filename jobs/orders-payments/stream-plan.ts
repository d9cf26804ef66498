/**
 * The streams `sluice produce orders-payments` writes: a deterministic
 * function of its options (the seed included), so a test or benchmark can
 * compute the job's exact expected output (expected.ts) from the same plan.
 *
 * Orders are numbered n = 0, 1, ...; order n has event time
 * startTime + n * eventSpacingMs and id `order_<n>` (seed 001's format).
 * Each order draws its fate from the seeded generator:
 *
 *   unpaidRate        never paid
 *   latePaymentRate   paid, but after the timeout (an unpaid row and an
 *                     `unknown_order` payment)
 *   splitPaymentRate  paid in two payments (two rows)
 *   otherwise         one payment, 0..maxPaymentDelayMs after the order
 *   paymentsFirstRate the payment reaches Kafka before its order (its event
 *                     time may even be a little earlier, within skewMs / 2)
 *   duplicateRate     the order is sent twice (identical copies)
 * and independently:
 *   orphanPaymentRate a payment for an order that never comes
 *                     (`order_<orders + k>`)
 *   badRecordRate     a record that is not valid input: by turns malformed
 *                     JSON, an order without order_id, a payment whose amount
 *                     is a string
 *
 * Arrival order: every record is sent in the order of its "position", its
 * event time plus a random lag of at most disorderMs (2 × disorderMs for a
 * payment sent before its order). Event times within a topic partition are
 * therefore out of order by at most that much: with the job's
 * outOfOrdernessMs at least 2 × disorderMs, no record is ever late, and the
 * job's output is a function of the records alone, whatever the timing.
 */
import type { Order, Payment } from './records.ts';

export interface PlanOptions {
  /** Orders to generate; Infinity for an endless stream. */
  orders: number;
  seed: number;
  customers: number;
  duplicateRate: number;
  paymentsFirstRate: number;
  unpaidRate: number;
  latePaymentRate: number;
  splitPaymentRate: number;
  orphanPaymentRate: number;
  badRecordRate: number;
  disorderMs: number;
  eventSpacingMs: number;
  maxPaymentDelayMs: number;
  /** The job's timeout (late payments are placed after it). */
  timeoutMs: number;
  /** The job's payment skew (payments sent first may precede their order by half of it). */
  skewMs: number;
  /** Event time of order 0, ms. */
  startTime: number;
}

export const DEFAULT_PLAN: PlanOptions = {
  orders: 10_000,
  seed: 1,
  customers: 1_000,
  duplicateRate: 0.02,
  paymentsFirstRate: 0.1,
  unpaidRate: 0.05,
  latePaymentRate: 0.01,
  splitPaymentRate: 0.05,
  orphanPaymentRate: 0.01,
  badRecordRate: 0,
  disorderMs: 5_000,
  eventSpacingMs: 100,
  maxPaymentDelayMs: 10 * 60_000,
  timeoutMs: 15 * 60_000,
  skewMs: 60_000,
  startTime: Date.UTC(2024, 0, 1),
};

export type PlannedRecord =
  | { topic: 'orders'; kind: 'order' | 'duplicate'; key: string; value: Order }
  | { topic: 'payments'; kind: 'payment' | 'orphan'; key: string; value: Payment }
  | { topic: 'orders' | 'payments'; kind: 'bad'; key: string | null; value: string; reason: string };

/** Records of a plan, in sending order, with their position (ms) for the heap. */
interface Pending {
  pos: number;
  seq: number;
  rec: PlannedRecord;
}

/** mulberry32: small, fast, seedable; good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(r: () => number): string {
  const hex = (n: number): string => Math.floor(r() * 16 ** n).toString(16).padStart(n, '0');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + Math.floor(r() * 4)).toString(16)}${hex(3)}-${hex(6)}${hex(6)}`;
}

class Heap {
  private readonly a: Pending[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Pending | undefined {
    return this.a[0];
  }
  push(p: Pending): void {
    const a = this.a;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!less(a[i], a[up])) break;
      [a[i], a[up]] = [a[up], a[i]];
      i = up;
    }
  }
  pop(): Pending | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Pending, y: Pending): boolean {
  return x.pos < y.pos || (x.pos === y.pos && x.seq < y.seq);
}

const iso = (t: number): string => new Date(t).toISOString();

/** The plan's records in sending order. Lazy: an endless plan is fine. */
export function* planRecords(options: Partial<PlanOptions> = {}): Generator<PlannedRecord> {
  const o = { ...DEFAULT_PLAN, ...options };
  if (o.maxPaymentDelayMs > o.timeoutMs) throw new Error(`maxPaymentDelayMs (${o.maxPaymentDelayMs}) must not exceed the timeout (${o.timeoutMs})`);
  const r = rng(o.seed);
  const heap = new Heap();
  let seq = 0;
  let orphans = 0;
  let bad = 0;
  const push = (pos: number, rec: PlannedRecord): void => heap.push({ pos, seq: seq++, rec });
  const lag = (): number => Math.floor(r() * (o.disorderMs + 1));
  for (let n = 0; n < o.orders; n++) {
    const tO = o.startTime + n * o.eventSpacingMs;
    // Nothing still to come sorts before tO - disorderMs (a payment sent first is the earliest): what does can go.
    while (heap.size > 0 && heap.peek()!.pos < tO - o.disorderMs) yield heap.pop()!.rec;
    const orderId = `order_${n}`;
    const amount = 10 + Math.floor(r() * 990);
    const order: Order = {
      order_id: orderId,
      order_date: iso(tO),
      created_at: iso(tO),
      customer_id: `customer_${Math.floor(r() * o.customers)}`,
      amount,
    };
    const payment = (tP: number, amt: number): Payment => ({ payment_id: uuid(r), order_id: orderId, payment_date: iso(tP), created_at: iso(tP), amount: amt });
    const fate = r();
    const first = r() < o.paymentsFirstRate;
    let orderPos = tO + lag();
    if (fate < o.unpaidRate) {
      // never paid
    } else if (fate < o.unpaidRate + o.latePaymentRate) {
      const tP = tO + o.timeoutMs + 1 + Math.floor(r() * (o.maxPaymentDelayMs + 1));
      push(tP + lag(), { topic: 'payments', kind: 'payment', key: orderId, value: payment(tP, amount) });
    } else if (first) {
      // Sent before its order: the order takes the largest lag, the payment a position before it.
      orderPos = tO + o.disorderMs;
      const tP = tO - Math.floor(r() * Math.min(o.skewMs / 2, o.disorderMs)) + Math.floor(r() * (o.disorderMs / 2));
      const pos = tP + Math.floor(r() * Math.max(0, orderPos - tP));
      push(Math.min(pos, orderPos - 1), { topic: 'payments', kind: 'payment', key: orderId, value: payment(tP, amount) });
    } else if (fate < o.unpaidRate + o.latePaymentRate + o.splitPaymentRate) {
      const part = 1 + Math.floor(r() * (amount - 1));
      for (const amt of [part, amount - part]) {
        const tP = tO + Math.floor(r() * (o.maxPaymentDelayMs + 1));
        push(tP + lag(), { topic: 'payments', kind: 'payment', key: orderId, value: payment(tP, amt) });
      }
    } else {
      const tP = tO + Math.floor(r() * (o.maxPaymentDelayMs + 1));
      push(tP + lag(), { topic: 'payments', kind: 'payment', key: orderId, value: payment(tP, amount) });
    }
    push(orderPos, { topic: 'orders', kind: 'order', key: orderId, value: order });
    if (r() < o.duplicateRate) push(tO + lag(), { topic: 'orders', kind: 'duplicate', key: orderId, value: order });
    if (r() < o.orphanPaymentRate) {
      const ghost = `order_${Number.isFinite(o.orders) ? o.orders + orphans : `ghost_${orphans}`}`;
      orphans++;
      const tP = tO + Math.floor(r() * (o.maxPaymentDelayMs + 1));
      const p: Payment = { payment_id: uuid(r), order_id: ghost, payment_date: iso(tP), created_at: iso(tP), amount: 10 + Math.floor(r() * 990) };
      push(tP + lag(), { topic: 'payments', kind: 'orphan', key: ghost, value: p });
    }
    if (r() < o.badRecordRate) {
      const kind = bad++ % 3;
      const pos = tO + lag();
      if (kind === 0) push(pos, { topic: 'orders', kind: 'bad', key: orderId, value: `{"order_id": "${orderId}", "amount": ${amount}`, reason: 'decode_error' });
      else if (kind === 1) {
        const { order_id: _drop, ...rest } = order;
        push(pos, { topic: 'orders', kind: 'bad', key: null, value: JSON.stringify(rest), reason: "/ must have required property 'order_id'" });
      } else {
        push(pos, { topic: 'payments', kind: 'bad', key: orderId, value: JSON.stringify({ ...payment(tO, amount), amount: `${amount}.50` }), reason: '/amount must be integer' });
      }
    }
  }
  while (heap.size > 0) yield heap.pop()!.rec;
}
