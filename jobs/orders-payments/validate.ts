/**
 * Input checks of the orders-payments job, declared as JSON Schemas
 * (draft-07) of seed 001's records and validated with ajv, formats
 * included, like the other seed jobs (engine/sources/json-schema.ts). A
 * record that fails goes to the dead-letter topic with reason
 * `validation_failed` and ajv's errors as its message ("/amount must be
 * integer"), and the job goes on. (Bytes that are not JSON, or not UTF-8,
 * fail earlier, as `decode_error`; records over the input limits as
 * `limit_exceeded`.)
 *
 * Every field the seed's records carry is required, `created_at` included,
 * with its type. Dates are strict ISO 8601 instants (format `date-time`,
 * which compileJsonSchema makes strict: a real calendar date, an explicit
 * offset or Z; engine/sources/iso-instant.ts). Other fields may be present.
 *
 * Heartbeats: `{"heartbeat": true, "event_time": "<ISO time>"}` on either
 * topic. They carry no order or payment; they move the partition's event
 * time forward (so orders on a quiet partition still time out) and are
 * dropped before the join. `sluice produce orders-payments` sends one to
 * every partition when it finishes.
 */
import { compileJsonSchema, parseIsoInstant } from '../../api/schema.ts';
import type { Order, Payment } from './records.ts';

export interface Heartbeat {
  heartbeat: true;
  event_time: string;
}

const id = { type: 'string', minLength: 1 } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const amount = { type: 'integer' } as const;

export const ORDER_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/sluice/schemas/orders-payments-order.json',
  title: 'An order (topic orders_topic_data_v1)',
  type: 'object',
  required: ['order_id', 'order_date', 'created_at', 'customer_id', 'amount'],
  properties: { order_id: id, order_date: instant, created_at: instant, customer_id: { type: 'string' }, amount },
};

export const PAYMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/sluice/schemas/orders-payments-payment.json',
  title: 'A payment (topic payments_topic_data_v1)',
  type: 'object',
  required: ['payment_id', 'order_id', 'payment_date', 'created_at', 'amount'],
  properties: { payment_id: id, order_id: id, payment_date: instant, created_at: instant, amount },
};

export const HEARTBEAT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/sluice/schemas/orders-payments-heartbeat.json',
  title: 'A heartbeat (either topic)',
  type: 'object',
  required: ['heartbeat', 'event_time'],
  properties: { heartbeat: { const: true }, event_time: instant },
};

// Compiled on first use, once per thread (job modules must not start work at import time).
let compiled: { order: (v: unknown) => string | undefined; payment: (v: unknown) => string | undefined; heartbeat: (v: unknown) => string | undefined } | undefined;

function schemas(): NonNullable<typeof compiled> {
  if (!compiled) {
    const [o, p, h] = [ORDER_SCHEMA, PAYMENT_SCHEMA, HEARTBEAT_SCHEMA].map((s) => compileJsonSchema(s, s.$id));
    compiled = { order: (v) => o.validate(v), payment: (v) => p.validate(v), heartbeat: (v) => h.validate(v) };
  }
  return compiled;
}

export function isHeartbeat(v: unknown): v is Heartbeat {
  return typeof v === 'object' && v !== null && (v as { heartbeat?: unknown }).heartbeat === true;
}

export function validateOrder(v: unknown): string | undefined {
  return isHeartbeat(v) ? schemas().heartbeat(v) : schemas().order(v);
}

export function validatePayment(v: unknown): string | undefined {
  return isHeartbeat(v) ? schemas().heartbeat(v) : schemas().payment(v);
}

/** Event time of a (valid) order or heartbeat; NaN for anything else. */
export function orderTime(v: Order | Heartbeat): number {
  return parseIsoInstant(isHeartbeat(v) ? v.event_time : v.order_date) ?? NaN;
}

/** Event time of a (valid) payment or heartbeat; NaN for anything else. */
export function paymentTime(v: Payment | Heartbeat): number {
  return parseIsoInstant(isHeartbeat(v) ? v.event_time : v.payment_date) ?? NaN;
}
