/**
 * The seeds' `spark_streams.created_users` row for a randomuser result, and
 * the deterministic id both stores key it by.
 *
 * The seeds' Spark job left `id` empty (its uuid.uuid4() call was never
 * applied), so every replay would have inserted new rows. Here `id` is a
 * UUIDv5 (RFC 9562, SHA-1 name-based) of the user's `login.uuid` in a fixed
 * namespace: the same user always maps to the same row, which is what makes
 * the Cassandra INSERT (an upsert) and the PostgreSQL ON CONFLICT idempotent.
 */
import { createHash } from 'node:crypto';
import type { RandomUserResult } from './randomuser-schema.ts';

/** Column order of the table, used by the DDL and the prepared INSERT. */
export const CREATED_USERS_COLUMNS = [
  'id',
  'first_name',
  'last_name',
  'gender',
  'address',
  'post_code',
  'email',
  'username',
  'dob',
  'registered_date',
  'phone',
  'picture',
] as const;

export interface CreatedUserRow {
  id: string;
  first_name: string;
  last_name: string;
  gender: string;
  address: string;
  /** Always text: a number in the API for some countries, a string for others. */
  post_code: string;
  email: string;
  username: string;
  /** ISO 8601 as the API sends it, kept as text like the seeds' table. */
  dob: string;
  registered_date: string;
  phone: string;
  picture: string;
}

/**
 * Namespace of the ids: UUIDv5 of the URL "https://randomuser.me/api/#login.uuid"
 * in RFC 9562's URL namespace (6ba7b811-...), written down so it can never drift.
 */
export const USER_ID_NAMESPACE = 'aa94ca4a-f85b-5c45-83b2-353d4994547e';

export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new RangeError(`uuidV5: namespace is not a UUID: ${namespace}`);
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5
  h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122/9562 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The row id of a user: deterministic in `login.uuid`. */
export function userId(loginUuid: string): string {
  return uuidV5(loginUuid.toLowerCase(), USER_ID_NAMESPACE);
}

export function formatAddress(loc: RandomUserResult['location']): string {
  const street = typeof loc.street === 'string' ? loc.street : `${loc.street.number} ${loc.street.name}`;
  return `${street}, ${loc.city}, ${loc.state}, ${loc.country}`;
}

/** Maps a validated result (see randomuser-schema.ts) to its row. */
export function toCreatedUserRow(u: RandomUserResult): CreatedUserRow {
  return {
    id: userId(u.login.uuid),
    first_name: u.name.first,
    last_name: u.name.last,
    gender: u.gender,
    address: formatAddress(u.location),
    post_code: String(u.location.postcode),
    email: u.email,
    username: u.login.username,
    dob: u.dob.date,
    registered_date: u.registered.date,
    phone: u.phone,
    picture: u.picture.medium,
  };
}
