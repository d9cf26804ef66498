/**
 * Wikipedia recent changes into Kafka: Wikimedia's EventStreams SSE feed
 * (https://stream.wikimedia.org/v2/stream/recentchange by default) to topic
 * `wikipedia.recentchange`, each event as JSON keyed by `meta.domain` (the
 * wiki), so one wiki's events stay in order in one partition. The seed's
 * ingestion script, with a resumable position: the last SSE event id is in
 * every checkpoint and is sent as Last-Event-ID after a restart.
 *
 * Events are passed through as received; validation against the schema is
 * the `wikipedia` job's (invalid events go to its dead-letter topic). Data
 * that is not JSON at all is dead-lettered here, with the raw text.
 *
 *   sluice run wikipedia-ingest --brokers 127.0.0.1:9092 [--set url=...]
 */
import { defineJob, kafkaSink } from '../api/index.ts';
import { sseSource, WIKIMEDIA_RECENTCHANGE_URL } from '../api/sources/sse.ts';
import type { RecentChange } from './wikipedia/recent-change.ts';

export default defineJob({
  name: 'wikipedia-ingest',
  description: 'Wikimedia recentchange SSE stream -> Kafka wikipedia.recentchange, keyed by meta.domain',
  settings: {
    url: WIKIMEDIA_RECENTCHANGE_URL,
    topic: 'wikipedia.recentchange',
    partitions: 4,
    idleTimeoutMs: 60_000,
    backoffMs: 1000,
    maxBackoffMs: 30_000,
  },
  sources: (s) => ({
    changes: sseSource<RecentChange>({
      url: s.url,
      idleTimeoutMs: s.idleTimeoutMs,
      backoff: { initialMs: s.backoffMs, maxMs: Math.max(s.backoffMs, s.maxBackoffMs) },
    }),
  }),
  sinks: (s) => ({
    kafka: kafkaSink({
      topic: s.topic,
      partitions: s.partitions,
      key: (v) => {
        const d = (v as RecentChange).meta?.domain;
        return typeof d === 'string' && d !== '' ? d : null;
      },
    }),
  }),
  pipeline(b) {
    b.source('changes').to('kafka');
  },
});
