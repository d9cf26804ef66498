/**
 * The joined output of the orders-payments job: one document per paid
 * (order, payment) pair and one per order never paid, in MongoDB collection
 * `ecommerce_mart.orders_data_process_fact`.
 *
 * The seed's fields, then `status` and the event times the join used
 * (ms since the epoch). `_id` is deterministic, so a redelivery rewrites the
 * same document: `<order_id>:<payment_id>` for a paid row, `<order_id>`
 * for an unpaid one.
 */
import type { Order, Payment } from './records.ts';

export interface Fact {
  order_id: string;
  order_date: string;
  created_at: string;
  customer_id: string;
  order_amount: number;
  payment_id: string | null;
  payment_date: string | null;
  payment_amount: number | null;
  status: 'paid' | 'unpaid';
  order_time: number;
  payment_time: number | null;
}

export function paidFact(o: Order, p: Payment, orderTime: number, paymentTime: number): Fact {
  return fact(o, orderTime, p, paymentTime);
}

export function unpaidFact(o: Order, orderTime: number): Fact {
  return fact(o, orderTime, null, null);
}

function fact(o: Order, orderTime: number, p: Payment | null, paymentTime: number | null): Fact {
  return {
    order_id: o.order_id,
    order_date: o.order_date,
    created_at: o.created_at,
    customer_id: o.customer_id,
    order_amount: o.amount,
    payment_id: p === null ? null : p.payment_id,
    payment_date: p === null ? null : p.payment_date,
    payment_amount: p === null ? null : p.amount,
    status: p === null ? 'unpaid' : 'paid',
    order_time: orderTime,
    payment_time: paymentTime,
  };
}

export function factId(f: Fact): string {
  return f.payment_id === null ? f.order_id : `${f.order_id}:${f.payment_id}`;
}
