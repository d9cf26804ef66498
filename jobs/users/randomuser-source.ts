/**
 * The randomuser.me API as an HTTP polling source (engine/sources/http-poll.ts).
 *
 * Each poll asks for `results=<batch>&page=<poll + 1>&seed=<partition seed>`.
 * With a fixed seed the API's pages are deterministic, so a restart that
 * re-issues an interrupted poll gets the same users back and resumes exactly
 * (the seed is chosen at first start and kept in the checkpoint). Without the
 * seed every request would return new random users.
 */
import type { CustomSourceSpec } from '../../api/index.ts';
import { httpPollSource, type OversizeRecord } from '../../api/sources/http-poll.ts';
import { validateRandomUser, type RandomUserResult } from './randomuser-schema.ts';

export const RANDOMUSER_URL = 'https://randomuser.me/api/';

export interface RandomUserSourceOptions {
  url: string;
  /** Users per request (the API allows up to 5000). */
  batch: number;
  intervalMs: number;
  timeoutMs: number;
  /** Stop after this many users (0: no limit). */
  count: number;
  /** Stop after polling this long (0: no limit). */
  durationMs: number;
  /** Optional `nat=us,br,...` filter; empty for every nationality. */
  nat?: string;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  maxRecordBytes?: number;
}

export function randomUserSource(o: RandomUserSourceOptions): CustomSourceSpec<RandomUserResult | OversizeRecord> {
  if (!Number.isInteger(o.batch) || o.batch < 1 || o.batch > 5000) {
    throw new RangeError(`randomuser source: batch must be an integer in 1..5000 (the API's limit), got ${o.batch}`);
  }
  return httpPollSource<RandomUserResult>({
    url: o.url,
    query: (req) => ({
      // Always the same page size, even when the count limit needs fewer: with a
      // seed, page P of size N is users [(P-1)N, PN), so changing N would shift pages.
      results: o.batch,
      page: req.poll + 1,
      seed: req.seed,
      ...(o.nat ? { nat: o.nat } : {}),
    }),
    records: (body) => {
      const results = (body as { results?: unknown })?.results;
      if (!Array.isArray(results)) throw new TypeError('no "results" array in the response');
      return results as RandomUserResult[];
    },
    intervalMs: o.intervalMs,
    timeoutMs: o.timeoutMs,
    maxRecords: o.count > 0 ? o.count : undefined,
    maxDurationMs: o.durationMs > 0 ? o.durationMs : undefined,
    maxRecordBytes: o.maxRecordBytes,
    backoff: { initialMs: o.backoffInitialMs, maxMs: o.backoffMaxMs },
    validate: (u) => validateRandomUser(u),
  });
}
