/**
 * kafkajs hands out offsets and timestamps as decimal strings and headers as
 * Buffer | string | array. We convert each record exactly once, here, into
 * the engine's KafkaRecord so nothing downstream parses strings per record.
 */
import type { KafkaMessage } from 'kafkajs';
import { offsetOf, timestampOf } from './kafkajs-fast-decode.ts';
import type { KafkaRecord } from './types.ts';

type RawHeaders = KafkaMessage['headers'];

/** Last value wins for repeated keys; undefined values (kafkajs uses them for null headers) are dropped. */
export function convertHeaders(raw: RawHeaders): Record<string, Buffer | string> | undefined {
  if (!raw) return undefined;
  let out: Record<string, Buffer | string> | undefined;
  for (const name of Object.keys(raw)) {
    let v = raw[name];
    if (Array.isArray(v)) v = v[v.length - 1];
    if (v === undefined || v === null) continue;
    (out ??= {})[name] = v;
  }
  return out;
}

export function toKafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  const record: KafkaRecord = {
    topic,
    partition,
    offset: offsetOf(m),
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: timestampOf(m),
  };
  const headers = convertHeaders(m.headers);
  if (headers) record.headers = headers;
  return record;
}

/**
 * Converts a fetched batch, dropping records below `fromOffset` (already
 * delivered, or below the position the engine asked for). Kafka returns whole
 * record batches, so a fetch at offset N can start before N.
 */
export function convertMessages(
  topic: string,
  partition: number,
  messages: KafkaMessage[],
  fromOffset: number,
): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  for (const m of messages) {
    if (offsetOf(m) < fromOffset) continue;
    out.push(toKafkaRecord(topic, partition, m));
  }
  return out;
}
