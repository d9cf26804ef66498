/**
 * The Kafka-fed Nexmark jobs (jobs/nexmark-kafka/) against the plain
 * reference implementations (test/nexmark/reference.ts) on the same events.
 *
 * The events (the reference's split layout, so keys are not co-partitioned)
 * go into a 4-partition topic as the reference's JSON; each job runs with 2
 * workers and reads them from the topic, its keyed stages through repartition
 * topics with the watermark forwarded in-band. 40,000 events at 2,000
 * events/s of event time span 20 s: several q5 and q7 windows end while the
 * jobs run. A Kafka source never ends, so a window closes only once the
 * watermark (4 s behind the newest event of every partition) passes it:
 * q5's and q7's rows are compared for the windows that end by then; q0-q3
 * and q8 (whose rows go out as soon as both sides are in) in full.
 */
import { describe, expect, it } from 'vitest';
import { nexmarkDataSettings, nexmarkDataset, preloadNexmark } from '../../bench/scenarios/nexmark-kafka-data.ts';
import { runNexmarkKafka } from '../../bench/scenarios/nexmark-kafka-run.ts';
import { eventsPerPartition, nexmarkGenerator } from '../../jobs/nexmark/common.ts';
import type { NexmarkEvent } from '../../jobs/nexmark/model.ts';
import { formatTime } from '../../jobs/nexmark-kafka/events.ts';
import { kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { canonicalRows, readOutputRows } from '../helpers/output-rows.ts';
import { tempDir } from '../helpers/temp.ts';
import { refQ0, refQ1, refQ2, refQ3, refQ5, refQ7Between, refQ8 } from '../nexmark/reference.ts';

const dataset = nexmarkDataset(40_000, 4, 2_000);
const OUT_OF_ORDERNESS_MS = 4000;

function allEvents(): NexmarkEvent[] {
  const s = nexmarkDataSettings(dataset);
  const gen = nexmarkGenerator(s);
  const out: NexmarkEvent[] = [];
  for (let p = 0; p < s.partitions; p++) for (let k = 0; k < eventsPerPartition(s); k++) out.push(gen.generate(p, k));
  return out;
}

const events = allEvents();
/** Where the watermark ends: every partition's newest event time minus the bound. */
const finalWatermark = Math.max(...events.map((e) => e.time)) - OUT_OF_ORDERNESS_MS;

async function runJob(query: string): Promise<unknown[]> {
  const prefix = uniqueName(`nexmark-${query}`);
  const outputDir = tempDir();
  const r = await runNexmarkKafka({
    jobModule: new URL(`../../jobs/nexmark-kafka/${query}.ts`, import.meta.url).href,
    settings: { topic: dataset.topic, outOfOrdernessMs: OUT_OF_ORDERNESS_MS, repartitionPrefix: prefix, sink: 'file' },
    brokers: kafkaBrokers(),
    groupId: prefix,
    events: dataset.events,
    finalWatermark,
    partitions: dataset.partitions,
    workers: 2,
    timeoutS: 240,
    checkpointIntervalMs: 200,
    outputDir,
  });
  expect(r.summary.deadLetters).toEqual({});
  return readOutputRows(outputDir, 'out');
}

/** Reference rows with dateTime as the topic's string, as the jobs pass it through. */
function withTimeString(rows: unknown[]): unknown[] {
  return rows.map((r) => ({ ...(r as object), dateTime: formatTime((r as { dateTime: number }).dateTime) }));
}

const cases: Array<[string, () => unknown[]]> = [
  ['q0', () => withTimeString(refQ0(events))],
  ['q1', () => withTimeString(refQ1(events))],
  ['q2', () => refQ2(events)],
  ['q3', () => refQ3(events)],
  ['q5', () => refQ5(events).filter((r) => (r as { endtime: number }).endtime <= finalWatermark)],
  // The join fires one past the window's end, so that bids at exactly the end still join.
  ['q7', () => withTimeString(refQ7Between(events).filter((x) => x.end + 1 <= finalWatermark).map((x) => x.row))],
  ['q8', () => refQ8(events)],
];

describe('Nexmark from Kafka equals the reference implementation', () => {
  it('loads the events', async () => {
    const d = await preloadNexmark(kafkaBrokers(), dataset);
    expect(d.events).toBe(events.length);
  });

  for (const [query, reference] of cases) {
    it(query, async () => {
      const want = canonicalRows(reference());
      // A query whose reference output is empty would prove nothing.
      expect(want.length).toBeGreaterThan(0);
      const got = canonicalRows(await runJob(query));
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    });
  }
});
