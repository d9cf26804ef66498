/**
 * The read_committed filter of fetched records: which records belong to
 * aborted transactions. Used by kafkajs's Batch as kafkajs-fast-decode.ts
 * replaces it (kafkajs's own filterAbortedMessages is wrong when two
 * producers' aborted transactions overlap in a partition; see filterAborted).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require.resolve('kafkajs/src/utils/long.js').replace(/utils\/long\.js$/, '');
const Long = require(`${root}utils/long.js`) as { fromValue(v: unknown): { gte(o: unknown): boolean } };

/** What the filter reads of a fetched message (kafkajs's decoded record). */
export interface FetchedMessage {
  offset: string;
  key?: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId?: string; inTransaction?: boolean };
}

/** An entry of a fetch response's aborted transactions: a producer's transaction that began at `firstOffset` and was aborted. */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** a >= b for offsets as decimal strings: on numbers while they are exact. */
function offsetGte(a: string, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  return Number.isSafeInteger(x) && Number.isSafeInteger(y) ? x >= y : Long.fromValue(a).gte(Long.fromValue(b));
}

/** An abort marker: a control record whose key is version 0, type 0 (ABORT; COMMIT is type 1). */
function isAbortMarker(m: FetchedMessage): boolean {
  const k = m.key;
  return m.isControlRecord === true && k != null && k.length >= 4 && k[0] === 0 && k[1] === 0 && k[2] === 0 && k[3] === 0;
}

/**
 * read_committed: drops the records of aborted transactions, as the Java
 * consumer does. A producer's aborted transaction starts at its
 * `firstOffset` and lasts until that producer's abort marker; records of
 * other producers in between are kept.
 *
 * The broker lists the aborted transactions in the order they ENDED (its
 * transaction index is appended at each abort marker), not in the order they
 * began: the Java consumer sorts them by first offset, and so does this.
 * kafkajs's filterAbortedMessages took the list as sorted by first offset,
 * and opened at most one transaction per record: when producer A's
 * transaction began before producer B's but was aborted after it (two
 * partition actors writing one dead-letter partition, both aborted on a
 * restart after a crash), A's records before B's first one were handed out
 * as committed, and the epoch sent again after the restart made them
 * duplicates (test/integration/kafka-aborted-transactions.test.ts).
 */
export function filterAborted<M extends FetchedMessage>(messages: M[], abortedTransactions: readonly AbortedTransaction[] | null | undefined): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => (offsetGte(a.firstOffset, b.firstOffset) ? (offsetGte(b.firstOffset, a.firstOffset) ? 0 : 1) : -1));
  let next = 0;
  const open = new Set<string>();
  return messages.filter((m) => {
    // Every aborted transaction that began at or before this record is open (several at once after a gap).
    while (next < pending.length && offsetGte(m.offset, pending[next].firstOffset)) open.add(String(pending[next++].producerId));
    const producerId = String(m.batchContext?.producerId);
    if (isAbortMarker(m)) {
      open.delete(producerId);
      return true;
    }
    return !(m.batchContext?.inTransaction === true && open.has(producerId));
  });
}
