/**
 * MongoDB sink (official `mongodb` driver).
 *
 * Guarantee: exactly-once in the collection. Every document gets a
 * deterministic `_id` (the `id` option; by default the record's
 * `<partition>-<epoch>-<seq>` id), and a write replaces whatever a document of
 * that `_id` holds, so an outbox epoch delivered twice (a crash between the
 * write and the outbox ack) leaves the same documents, once each.
 *
 * Writes, per delivery: the records become documents, cut into batches of
 * `batchSize`; at most `concurrency` batches are in flight per driver (one
 * driver per worker thread, shared by its partition actors), so a slow
 * server holds `deliver` back, the actor's delivery backlog grows, and the
 * runtime pauses its input: backpressure. Two write modes, same end state:
 *
 *   `upsert`               bulkWrite of replaceOne({_id}, doc, {upsert: true}),
 *                          ordered: false.
 *   `insert-then-replace`  (default) insertMany(docs, {ordered: false}); the
 *                          documents that already exist (E11000: a redelivery,
 *                          mostly) are then written as ordered-false upserts
 *                          like above. Last write wins, as with `upsert`.
 *   `insert-once`          insertMany(docs, {ordered: false}) only: a document
 *                          that exists is kept. First write wins: exactly-once
 *                          when a document is a function of its _id's inputs
 *                          (the same _id always carries the same document),
 *                          as for orders-payments.
 * Inserting first pays because nearly every document is new: on MongoDB an
 * insert is cheaper than an upsert, and on FerretDB 1.24/SQLite (the test
 * server) far more so. There, a lookup by _id scans the table (its queries
 * use `->'$._id'`, its unique index `->"_id"`, so SQLite never uses the
 * index; backends/sqlite/collection.go), so upserts run at about 60
 * documents/s on small collections and slower as they grow, against about
 * 9,000/s for inserts (whose duplicate check does use the index). It also
 * deadlocks once 100 upserts are in flight: each upsert of an update command
 * holds one of its 100 pooled SQLite connections until the command ends
 * (handler/msg_update.go). So upserts go out at most `maxUpsertsPerCommand`
 * (default 10) per command: with the default 4 writes in flight per worker
 * thread, two workers stay at 80. On MongoDB proper, raise it (e.g. 1000).
 *
 * Errors are only classified here: a batch that fails with a network or
 * server-selection error, a primary stepping down, or the
 * RetryableWriteError label makes `deliver` throw a retryable SluiceError,
 * and the runtime's one delivery policy (engine/runtime/delivery-policy.ts)
 * retries the whole epoch, which is idempotent; any other error is not
 * retryable and fails the job at once.
 *
 * Connection: `uri` option, else the env var named by `uriEnv` (default
 * SLUICE_MONGO_URI). Credentials never reach a log or an error message: every
 * message that leaves this module goes through `redactUri`.
 */
import { MongoBulkWriteError, MongoClient, type AnyBulkWriteOperation, type Collection } from 'mongodb';
import type { SinkContext, SinkDelivery, SinkDriver, SinkRecord, SinkSpec } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

export interface MongoSinkOptions {
  /** Connection string; default: the environment variable named by `uriEnv`. */
  uri?: string;
  /** Default SLUICE_MONGO_URI. */
  uriEnv?: string;
  db: string;
  collection: string;
  /** The document `_id` of a record; default the record's deterministic id. */
  id?: (value: unknown, record: SinkRecord) => string;
  mode?: 'insert-then-replace' | 'upsert' | 'insert-once';
  /** Documents per write. Default 500. */
  batchSize?: number;
  /** Writes in flight per driver (worker thread). Default 4. */
  concurrency?: number;
  /** Upserts per update command. Default 10 (see the header on FerretDB). */
  maxUpsertsPerCommand?: number;
  /** Driver connection pool size. Default concurrency + 2. */
  maxPoolSize?: number;
  /** How long to wait for a server at open and per operation. Default 30 000 ms. */
  timeoutMs?: number;
}

/** mongodb://user:secret@host → mongodb://user:***@host, anywhere in a text. */
export function redactUri(text: string): string {
  return text.replace(/(mongodb(?:\+srv)?:\/\/)([^@/\s]*)@/gi, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@`;
  });
}

/** The password (if any) of a connection string, to scrub from driver messages that might echo it. */
function secretOf(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/([^@/]*)@/i.exec(uri);
  if (!m) return undefined;
  const colon = m[1].indexOf(':');
  if (colon < 0) return undefined;
  const raw = m[1].slice(colon + 1);
  return raw.length > 0 ? raw : undefined;
}

// Server error codes worth a retry: network and host errors, interrupted
// operations, primaries stepping down or not yet elected, write conflicts.
const RETRYABLE_CODES = new Set([6, 7, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 50, 64, 150, 234]);

export function isRetryableMongoError(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 3) return false;
  const e = err as Error & { code?: unknown; hasErrorLabel?: (l: string) => boolean; errorResponse?: unknown };
  if (/^Mongo(Network|NetworkTimeout|ServerSelection|PoolCleared|PoolClosed|Topology)/.test(e.name)) return true;
  if (typeof e.hasErrorLabel === 'function' && (e.hasErrorLabel('RetryableWriteError') || e.hasErrorLabel('TransientTransactionError'))) return true;
  if (typeof e.code === 'number' && RETRYABLE_CODES.has(e.code)) return true;
  // FerretDB on SQLite: another writer holds the database lock for a moment.
  if (/database is locked|SQLITE_BUSY/.test(String(e.message))) return true;
  // A bulk write cut off by the network carries the network error inside it, with no write errors.
  return isRetryableMongoError(e.errorResponse, depth + 1) || isRetryableMongoError(e.cause, depth + 1);
}

const DUPLICATE_KEY = 11000;

/** A document as written: the record's fields and its deterministic `_id`. */
type Doc = { _id: string; [field: string]: unknown };

/** A counting semaphore: `concurrency` writes in flight per driver, the others queue in order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export interface MongoSinkStats {
  documents: number;
  inserted: number;
  /** Already stored and left as they were (insert-once). */
  kept: number;
  replaced: number;
  /** Batches that failed with a retryable error (the runtime retried their delivery). */
  retries: number;
}

class MongoDriver implements MongoSinkDriver {
  private client: MongoClient | undefined;
  private coll!: Collection<Doc>;
  private slots!: Slots;
  private secret: string | undefined;
  private where = '';
  readonly stats: MongoSinkStats = { documents: 0, inserted: 0, kept: 0, replaced: 0, retries: 0 };

  constructor(private readonly o: MongoSinkOptions) {}

  async open(ctx: SinkContext): Promise<void> {
    const envName = this.o.uriEnv ?? 'SLUICE_MONGO_URI';
    const uri = this.o.uri || process.env[envName];
    if (!uri) {
      throw new SluiceError(ErrorCodes.CONFIG, `mongo sink "${ctx.sinkId}": no connection string (give the sink a uri, or set ${envName})`);
    }
    this.secret = secretOf(uri);
    this.where = `${redactUri(uri)} ${this.o.db}.${this.o.collection}`;
    const concurrency = this.o.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new SluiceError(ErrorCodes.CONFIG, `mongo sink: concurrency must be an integer >= 1, got ${concurrency}`);
    this.slots = new Slots(concurrency);
    const timeout = this.o.timeoutMs ?? 30_000;
    try {
      this.client = new MongoClient(uri, {
        maxPoolSize: this.o.maxPoolSize ?? concurrency + 2,
        serverSelectionTimeoutMS: timeout,
        socketTimeoutMS: Math.max(timeout, 60_000),
        appName: `sluice-${ctx.job}-${ctx.sinkId}`,
      });
      await this.client.connect();
      await this.client.db(this.o.db).command({ ping: 1 });
    } catch (err) {
      await this.client?.close().catch(() => {});
      this.client = undefined;
      throw new SluiceError(ErrorCodes.SINK, `mongo sink: cannot reach ${this.where}: ${this.scrub(err)}`, { retryable: true });
    }
    this.coll = this.client.db(this.o.db).collection(this.o.collection);
    await this.ensureCollection();
  }

  /**
   * Creates the collection before any write: concurrent first writes into a
   * missing collection make FerretDB 1.24/SQLite create it from several
   * connections at once, which deadlocks it. Two workers racing here is
   * harmless: the loser gets NamespaceExists (48).
   */
  private async ensureCollection(): Promise<void> {
    try {
      const db = this.client!.db(this.o.db);
      const found = await db.listCollections({ name: this.o.collection }, { nameOnly: true }).toArray();
      if (found.length === 0) await db.createCollection(this.o.collection);
    } catch (err) {
      if ((err as { code?: unknown }).code === 48) return;
      throw new SluiceError(ErrorCodes.SINK, `mongo sink: cannot create ${this.where}: ${this.scrub(err)}`, { retryable: isRetryableMongoError(err) });
    }
  }

  async deliver(d: SinkDelivery): Promise<void> {
    const n = d.records.length;
    if (n === 0) return;
    const idOf = this.o.id;
    const docs: Doc[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = d.records[i];
      const v = r.value;
      const _id = idOf ? idOf(v, r) : r.id;
      docs[i] = v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, unknown>), _id } : { _id, value: v };
    }
    const size = this.o.batchSize ?? 500;
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < n; i += size) {
      const batch = docs.slice(i, i + size);
      writes.push(this.slots.run(() => this.write(batch)));
    }
    // Every batch settles before deliver does, so a failed delivery leaves no write behind it in flight.
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.stats.documents += n;
  }

  /** One batch, written once: a failure is classified, and the runtime's delivery policy retries the whole epoch. */
  private async write(docs: Doc[]): Promise<void> {
    try {
      await (this.o.mode === 'upsert' ? this.upsert(docs) : this.insertThenReplace(docs));
    } catch (err) {
      const retryable = isRetryableMongoError(err);
      if (retryable) this.stats.retries++;
      throw new SluiceError(ErrorCodes.SINK, `mongo sink ${this.where}: write of ${docs.length} documents failed: ${this.scrub(err)}`, { retryable, cause: err });
    }
  }

  private async insertThenReplace(docs: Doc[]): Promise<void> {
    let existing: Doc[] | undefined;
    try {
      await this.coll.insertMany(docs, { ordered: false });
      this.stats.inserted += docs.length;
      return;
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).filter((w) => w !== undefined && w !== null);
      // Only duplicate keys mean "already there, replace it". A bulk write cut off by the network fails
      // with no write errors at all: the documents are not written, and this must fail, not count as done.
      const other = errors.find((w) => w.code !== DUPLICATE_KEY);
      if (other || errors.length === 0) throw err;
      existing = errors.map((w) => docs[w.index]);
      this.stats.inserted += docs.length - existing.length;
    }
    if (this.o.mode === 'insert-once') {
      this.stats.kept += existing.length;
      return;
    }
    await this.upsert(existing);
  }

  private async upsert(docs: Doc[]): Promise<void> {
    const per = this.o.maxUpsertsPerCommand ?? 10;
    for (let i = 0; i < docs.length; i += per) {
      const ops: Array<AnyBulkWriteOperation<Doc>> = docs
        .slice(i, i + per)
        .map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }));
      await this.coll.bulkWrite(ops, { ordered: false });
      this.stats.replaced += ops.length;
    }
  }

  /** An error's message without the connection string's secret. */
  private scrub(err: unknown): string {
    let text = redactUri(err instanceof Error ? err.message : String(err));
    if (this.secret) text = text.split(this.secret).join('***');
    return text;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close();
  }

  destroy(): void {
    void this.client?.close(true).catch(() => {});
    this.client = undefined;
  }
}

export interface MongoSinkDriver extends SinkDriver {
  readonly stats: MongoSinkStats;
}

export interface MongoSinkSpec extends SinkSpec {
  create(): MongoSinkDriver;
}

export function mongoSink(o: MongoSinkOptions): MongoSinkSpec {
  if (!o.db || !o.collection) throw new SluiceError(ErrorCodes.CONFIG, 'mongo sink: db and collection are required');
  return {
    kind: 'mongo',
    guarantee: 'exactly-once: deterministic _id per document, replaced on redelivery (insert, then upsert what exists)',
    outbox: true,
    create: () => new MongoDriver(o),
  };
}
