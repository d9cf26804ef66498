/**
 * Where the Kafka scenario finds the orders-payments job, its MongoDB sink
 * and the MongoDB server (FerretDB), and how it maps a dataset onto the job's
 * settings. Those are built in parallel with this benchmark: until they
 * exist, the contenders that need them report "not available" with the
 * missing path as the reason.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Settings } from '../../engine/contracts/job.ts';
import type { Dataset } from './kafka-data.ts';

export interface MongoServer {
  uri: string;
  describe: string;
  stop(): Promise<void>;
}

export interface Availability {
  module?: string;
  missing?: string;
  startServer?: () => Promise<MongoServer>;
}

const JOB = 'jobs/orders-payments.ts';
const MONGO_SINK = 'engine/sinks/mongo-sink.ts';
const FERRETDB = 'engine/dev/servers/ferretdb.ts';

export function ordersPaymentsAvailability(repo: string, sink: 'discard' | 'mongo'): Availability {
  const need = [JOB, ...(sink === 'mongo' ? [MONGO_SINK, FERRETDB] : [])];
  const absent = need.filter((p) => !existsSync(join(repo, p)));
  if (absent.length) return { missing: `${absent.join(', ')} not in the repository yet (built in parallel by another engineer)` };
  const module = pathToFileURL(join(repo, JOB)).href;
  if (sink === 'discard') return { module };
  return {
    module,
    startServer: async () => {
      const ferret = (await import(pathToFileURL(join(repo, FERRETDB)).href)) as {
        startFerretDb?: () => Promise<{ uri: string; stop(): Promise<void> }>;
      };
      if (typeof ferret.startFerretDb !== 'function') throw new Error(`${FERRETDB} has no startFerretDb()`);
      const s = await ferret.startFerretDb();
      return { uri: s.uri, describe: `FerretDB at ${s.uri}`, stop: () => s.stop() };
    },
  };
}

/**
 * The job's settings for a dataset and a sink: its defaults (a job's module
 * holds them), with the topics, the sink and, for MongoDB, the server and a
 * database of this run. The topics are keyed by order_id with the default
 * partitioner, so the job reads them co-partitioned (no repartition stage).
 */
export async function ordersPaymentsSettings(module: string, d: Dataset, sink: 'discard' | 'mongo', o: { mongoUri?: string; database?: string }): Promise<Settings> {
  const job = ((await import(module)) as { default: { settings?: Settings } }).default;
  const s: Settings = { ...(job.settings ?? {}), ordersTopic: d.ordersTopic, paymentsTopic: d.paymentsTopic, sink, copartitioned: true };
  if (sink === 'mongo') {
    s.mongoUri = o.mongoUri ?? '';
    s.mongoDb = o.database ?? 'sluice_bench';
  }
  return s;
}
