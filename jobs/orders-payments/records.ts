/**
 * Record shapes of seed 001's producers (topics orders_topic_data_v1 and
 * payments_topic_data_v1), and a deterministic generator of them.
 *
 * Determinism: the record at (partition, offset) depends only on those two
 * numbers, so an embedded replay after a crash regenerates exactly what was
 * lost. Order n lives in partition n mod P (as Kafka's key partitioning would
 * place it on co-partitioned topics), and the payment at (p, o) pays the order
 * at (p, o): same partition, same key.
 */

export interface Order {
  order_id: string;
  order_date: string;
  created_at: string;
  customer_id: string;
  amount: number;
}

export interface Payment {
  payment_id: string;
  order_id: string;
  payment_date: string;
  created_at: string;
  amount: number;
}

export const EPOCH_MS = Date.UTC(2024, 0, 1);

/** A 32-bit integer hash (Wang/Jenkins mix): cheap, stateless, well spread. */
export function mix(n: number): number {
  let x = n | 0;
  x = (x ^ 61) ^ (x >>> 16);
  x = Math.imul(x, 9);
  x ^= x >>> 4;
  x = Math.imul(x, 0x27d4eb2d);
  x ^= x >>> 15;
  return x >>> 0;
}

function uuidFrom(n: number): string {
  const h = (i: number): string => mix(n * 4 + i).toString(16).padStart(8, '0');
  const a = h(0) + h(1) + h(2) + h(3);
  return `${a.slice(0, 8)}-${a.slice(8, 12)}-4${a.slice(13, 16)}-${((parseInt(a[16], 16) & 3) | 8).toString(16)}${a.slice(17, 20)}-${a.slice(20, 32)}`;
}

export interface GenOptions {
  partitions: number;
  customers: number;
  /** Event-time spacing between consecutive orders of the whole stream, ms. */
  orderSpacingMs: number;
  /** Largest delay of a payment after its order, ms. */
  maxPaymentDelayMs: number;
}

export function orderNumber(o: GenOptions, partition: number, offset: number): number {
  return offset * o.partitions + partition;
}

export function orderTime(o: GenOptions, n: number): number {
  return EPOCH_MS + n * o.orderSpacingMs;
}

export function makeOrder(o: GenOptions, partition: number, offset: number): Order {
  const n = orderNumber(o, partition, offset);
  const t = new Date(orderTime(o, n)).toISOString();
  return {
    order_id: `order_${n}`,
    order_date: t,
    created_at: t,
    customer_id: `customer_${mix(n) % o.customers}`,
    amount: 10 + (mix(n + 7) % 990),
  };
}

export function makePayment(o: GenOptions, partition: number, offset: number): Payment {
  const n = orderNumber(o, partition, offset);
  const t = new Date(orderTime(o, n) + (mix(n + 13) % (o.maxPaymentDelayMs + 1))).toISOString();
  return {
    payment_id: uuidFrom(n),
    order_id: `order_${n}`,
    payment_date: t,
    created_at: t,
    amount: 10 + (mix(n + 7) % 990),
  };
}
