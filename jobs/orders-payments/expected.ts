/**
 * The orders-payments job's output, computed the plain way from the records
 * it reads: the reference the end-to-end tests and the benchmark compare the
 * MongoDB collection and the dead-letter topic with.
 *
 * It holds when no record is late (see stream-plan.ts: the job's
 * outOfOrdernessMs at least twice the producer's disorderMs), because then
 * the job's output depends on the records only, not on their timing:
 *   - per order_id the first valid order (in arrival order) counts, later ones
 *     are duplicates;
 *   - a payment joins the counted order of its order_id when its event time is
 *     within [order - skewMs, order + timeoutMs]: one paid row each;
 *   - an order no payment joined gives one unpaid row;
 *   - a payment that joined no order is dead-lettered as unknown_order;
 *   - records that fail validation or decoding are dead-lettered, not joined.
 */
import { factId, paidFact, unpaidFact, type Fact } from './facts.ts';
import type { Order, Payment } from './records.ts';
import type { PlannedRecord } from './stream-plan.ts';

export interface Expected {
  /** By _id. */
  facts: Map<string, Fact>;
  unknownPayments: Payment[];
  duplicateOrders: number;
  badRecords: Array<{ topic: string; reason: string }>;
  orders: number;
  payments: number;
}

export function expectedOutput(records: Iterable<PlannedRecord>, bounds: { timeoutMs: number; skewMs: number }): Expected {
  const orders = new Map<string, Order>();
  const payments = new Map<string, Payment[]>();
  const out: Expected = { facts: new Map(), unknownPayments: [], duplicateOrders: 0, badRecords: [], orders: 0, payments: 0 };
  for (const r of records) {
    if (r.kind === 'bad') {
      out.badRecords.push({ topic: r.topic, reason: r.reason });
    } else if (r.topic === 'orders') {
      out.orders++;
      if (orders.has(r.value.order_id)) out.duplicateOrders++;
      else orders.set(r.value.order_id, r.value);
    } else {
      out.payments++;
      const list = payments.get(r.value.order_id);
      if (list) list.push(r.value);
      else payments.set(r.value.order_id, [r.value]);
    }
  }
  for (const [id, o] of orders) {
    const tO = Date.parse(o.order_date);
    let paid = false;
    const rest: Payment[] = [];
    for (const p of payments.get(id) ?? []) {
      const tP = Date.parse(p.payment_date);
      if (tP >= tO - bounds.skewMs && tP <= tO + bounds.timeoutMs) {
        const f = paidFact(o, p, tO, tP);
        out.facts.set(factId(f), f);
        paid = true;
      } else rest.push(p);
    }
    payments.set(id, rest);
    if (!paid) {
      const f = unpaidFact(o, tO);
      out.facts.set(factId(f), f);
    }
  }
  for (const list of payments.values()) out.unknownPayments.push(...list);
  return out;
}
