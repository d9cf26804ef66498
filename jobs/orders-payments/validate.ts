/**
 * Input checks of the orders-payments job, run by the sources' `validate`
 * hook: a record that fails goes to the dead-letter topic with reason
 * `validation_failed` and the message below as its error, and the job goes
 * on. (Bytes that are not JSON at all fail earlier, as `decode_error`.)
 *
 * Heartbeats: `{"heartbeat": true, "event_time": "<ISO time>"}` on either
 * topic. They carry no order or payment; they move the partition's event
 * time forward (so orders on a quiet partition still time out) and are
 * dropped before the join. `sluice produce orders-payments` sends one to
 * every partition when it finishes.
 */
import type { Order, Payment } from './records.ts';

export interface Heartbeat {
  heartbeat: true;
  event_time: string;
}

export function isHeartbeat(v: unknown): v is Heartbeat {
  return typeof v === 'object' && v !== null && (v as { heartbeat?: unknown }).heartbeat === true;
}

function isTime(v: unknown): boolean {
  return typeof v === 'string' && Number.isFinite(Date.parse(v));
}

function common(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  if (isHeartbeat(v)) return isTime(v.event_time) ? undefined : 'heartbeat without a valid event_time';
  const o = v as Record<string, unknown>;
  if (o.order_id === undefined || o.order_id === null || o.order_id === '') return 'missing order_id';
  if (typeof o.order_id !== 'string') return `order_id must be a string, got ${typeof o.order_id}`;
  if (!Number.isInteger(o.amount)) return `amount must be an integer, got ${JSON.stringify(o.amount) ?? 'nothing'}`;
  return undefined;
}

export function validateOrder(v: unknown): string | undefined {
  const r = common(v);
  if (r !== undefined || isHeartbeat(v)) return r;
  const o = v as Record<string, unknown>;
  if (!isTime(o.order_date)) return 'order_date must be an ISO date-time';
  if (typeof o.customer_id !== 'string') return 'customer_id must be a string';
  return undefined;
}

export function validatePayment(v: unknown): string | undefined {
  const r = common(v);
  if (r !== undefined || isHeartbeat(v)) return r;
  const o = v as Record<string, unknown>;
  if (typeof o.payment_id !== 'string' || o.payment_id === '') return 'missing payment_id';
  if (!isTime(o.payment_date)) return 'payment_date must be an ISO date-time';
  return undefined;
}

/** Event time of a (valid) order or heartbeat. */
export function orderTime(v: Order | Heartbeat): number {
  return Date.parse(isHeartbeat(v) ? v.event_time : v.order_date);
}

/** Event time of a (valid) payment or heartbeat. */
export function paymentTime(v: Payment | Heartbeat): number {
  return Date.parse(isHeartbeat(v) ? v.event_time : v.payment_date);
}
