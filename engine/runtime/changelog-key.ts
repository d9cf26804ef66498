/**
 * A changelog record's key (changelog.ts): msgpack([db, ...lmdbKey]), db
 * "state" or "timers", lmdbKey the store's key array (actor id, operator,
 * ...). Encoded once, when the commit records the write.
 */
import { Packr } from 'msgpackr';
import type { Key } from 'lmdb';

const packr = new Packr({ useRecords: false });
const keyScratch: unknown[] = [];

export function encodeChangelogKey(db: 'state' | 'timers', key: Key): Buffer {
  const k = key as unknown[];
  keyScratch.length = k.length + 1;
  keyScratch[0] = db;
  for (let i = 0; i < k.length; i++) keyScratch[i + 1] = k[i];
  // pack() returns a view of its own buffer that later packs do not overwrite.
  return packr.pack(keyScratch);
}

export function decodeChangelogKey(bytes: Buffer): ['state' | 'timers', ...unknown[]] {
  return packr.unpack(bytes) as ['state' | 'timers', ...unknown[]];
}
