/**
 * `GET /api/status`: the status page's data, one JSON document per request,
 * built on the main thread from what it already has: the actors' stats (sent
 * by the workers every second, protocol.ts), the Kafka input's lag and
 * pauses, and for a Kafka job the consumer group (status-group.ts).
 *
 * The shape is documented in docs/status-api.md and kept stable: fields are
 * only ever added; `version` changes if one is removed or changes meaning.
 * test/metrics/status-api.test.ts checks a live document against the doc.
 *
 * Rates are differences of the running totals over the last RATE_WINDOW_MS
 * of requests (RateWindow), so nothing is sampled while nobody asks.
 */
import { hostname } from 'node:os';
import type { JobRunner, JobState } from '../engine/runtime/job-runner.ts';
import type { DeadLetterSample } from '../engine/runtime/protocol.ts';
import { GroupReader, type GroupView } from './status-group.ts';
import { RateWindow } from './status-rates.ts';

export const STATUS_API_VERSION = 1;
/** Dead letters listed in `deadLetters.latest`. */
export const LATEST_DEAD_LETTERS = 10;

export interface StatusGraphNode {
  id: string;
  kind: 'source' | 'operator' | 'sink';
  /** The job's source or sink id; the operator id for an operator. */
  name: string;
}

export interface StatusGraphEdge {
  from: string;
  to: string;
  /** Side-output tag, or null for the main output. */
  tag: string | null;
  records: number;
  perSecond: number;
}

export interface StatusPartition {
  partition: number;
  /** The owning process's Kafka client id; `local` in an embedded job; null when no process owns it. */
  owner: string | null;
  /** True when this process runs it. */
  local: boolean;
  /** Worker thread of this process running it (null elsewhere). */
  worker: number | null;
  recordsIn: number;
  perSecond: number;
  lagRecords: number | null;
  lagSeconds: number | null;
  /** Event-time watermark, ms since the epoch (null before the first, or elsewhere). */
  watermark: number | null;
  eventTimeLagSeconds: number | null;
  checkpoints: number;
  checkpointAgeSeconds: number | null;
  checkpointDurationMs: number | null;
  backpressured: boolean;
  mailboxRecords: number | null;
  pausedSeconds: number | null;
  undeliveredEpochs: number | null;
  stateKeys: number | null;
  stateBytes: number | null;
}

export interface StatusReport {
  version: typeof STATUS_API_VERSION;
  job: string;
  state: JobState;
  generatedAt: number;
  uptimeSeconds: number;
  process: { clientId: string | null; host: string; pid: number; workers: Array<{ id: number; state: string }> };
  totals: { recordsIn: number; perSecond: number; recordsOut: Record<string, number>; deadLetters: number; checkpoints: number };
  graph: { nodes: StatusGraphNode[]; edges: StatusGraphEdge[] };
  partitions: StatusPartition[];
  restores: Array<{ partition: number; owner: string; records: number; total: number; startedAt: number; at: number }>;
  deadLetters: { total: number; byReason: Record<string, number>; latest: DeadLetterSample[] };
  backpressure: { backpressuredPartitions: number; pausedSeconds: number };
  group: { id: string; state: string; members: Array<{ clientId: string; host: string; partitions: number[]; self: boolean }>; at: number; error: string | null } | null;
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

export class RunnerStatus {
  private readonly rates = new RateWindow();
  /** Made once the Kafka input exists (a request can come while the job starts). */
  private group: GroupReader | undefined;
  private graph: { nodes: StatusGraphNode[]; inputs: Array<{ from: string; to: string; tag: string | null }> } | undefined;

  private closed = false;

  constructor(
    private readonly runner: JobRunner,
    private readonly startedAt = Date.now(),
  ) {}

  async close(): Promise<void> {
    this.closed = true;
    await this.group?.close();
  }

  /** The document; the first request of a Kafka job waits for the group's first read. */
  async report(now = Date.now()): Promise<StatusReport> {
    const r = this.runner;
    const k = r.kafkaIdentity;
    if (k && !this.group && !this.closed) {
      this.group = new GroupReader({ brokers: k.brokers, clientId: `${k.clientId}-status` }, k.groupId, r.runtime.appId, k.topics);
    }
    let g = this.group?.current(now);
    if (this.group && !g) {
      await this.group.settled();
      g = this.group.current(now);
    }
    const all = r.allStats();
    const graph = this.pipelineGraph();
    const sum = (pick: (a: (typeof all)[number]) => number): number => all.reduce((n, a) => n + pick(a), 0);

    // Running totals, then their rates over the window.
    const totals = new Map<string, number>();
    const add = (k: string, n: number): void => void totals.set(k, (totals.get(k) ?? 0) + n);
    const deadByReason: Record<string, number> = {};
    const recordsOut: Record<string, number> = {};
    for (const a of all) {
      const inn = a.recordsIn.reduce((x, y) => x + y, 0);
      add('in', inn);
      add(`p${a.partition}`, inn);
      for (const [k, v] of Object.entries(a.nodeOut ?? {})) add(`n:${k}`, v);
      for (const [k, v] of Object.entries(a.deadLetters)) deadByReason[k] = (deadByReason[k] ?? 0) + v;
      for (const [k, v] of Object.entries(a.recordsOut)) recordsOut[k] = (recordsOut[k] ?? 0) + v;
    }
    const rate = this.rates.rates(now, totals);

    const edges: StatusGraphEdge[] = graph.inputs.map((e) => {
      const key = `n:${e.tag === null ? e.from : `${e.from}#${e.tag}`}`;
      return { ...e, records: totals.get(key) ?? 0, perSecond: rate.get(key) ?? 0 };
    });

    const partitions = this.partitions(now, g, totals, rate);
    const latest = r.stats.size === 0 ? [] : [...r.stats.values()].flatMap((a) => a.recentDeadLetters ?? []);
    latest.sort((a, b) => b.at - a.at);
    const input = r.inputStats();
    return {
      version: STATUS_API_VERSION,
      job: r.runtime.job,
      state: r.state,
      generatedAt: now,
      uptimeSeconds: (now - this.startedAt) / 1000,
      process: {
        clientId: r.kafkaIdentity?.clientId ?? null,
        host: hostname(),
        pid: process.pid,
        workers: r.workerHandles.map((w) => ({ id: w.id, state: w.lifecycle.state })),
      },
      totals: { recordsIn: totals.get('in') ?? 0, perSecond: rate.get('in') ?? 0, recordsOut, deadLetters: Object.values(deadByReason).reduce((x, y) => x + y, 0), checkpoints: sum((a) => a.checkpoints) },
      graph: { nodes: graph.nodes, edges },
      partitions,
      restores: (g?.restores ?? []).map((x) => ({ partition: x.partition, owner: x.owner, records: x.records, total: x.total, startedAt: x.startedAt, at: x.at })),
      deadLetters: { total: Object.values(deadByReason).reduce((x, y) => x + y, 0), byReason: deadByReason, latest: latest.slice(0, LATEST_DEAD_LETTERS) },
      backpressure: {
        backpressuredPartitions: partitions.filter((p) => p.local && p.backpressured).length,
        pausedSeconds: (input?.partitions ?? []).reduce((n, p) => n + p.pausedMs, 0) / 1000,
      },
      group: g
        ? { id: g.id, state: g.state, members: g.members.map((m) => ({ ...m, self: m.clientId === r.kafkaIdentity?.clientId })), at: g.at, error: g.error ?? null }
        : null,
    };
  }

  private partitions(now: number, g: GroupView | undefined, totals: Map<string, number>, rate: Map<string, number>): StatusPartition[] {
    const r = this.runner;
    const input = r.inputStats();
    const feeds = new Map((input?.partitions ?? []).map((p) => [p.partition, p]));
    const embedded = r.runtime.embedded;
    const localLag = new Map<number, number>();
    for (const [key, lag] of r.lag()) {
      const p = Number(key.slice(key.lastIndexOf(':') + 1));
      localLag.set(p, (localLag.get(p) ?? 0) + lag);
    }
    const ownerOf = new Map<number, string>();
    for (const m of g?.members ?? []) for (const p of m.partitions) ownerOf.set(p, m.clientId);
    const out: StatusPartition[] = [];
    for (let p = 0; p < r.partitionCount; p++) {
      const a = r.stats.get(`p${p}`);
      const local = embedded ? a !== undefined && !a.finished : feeds.get(p)?.owned === true;
      const perSecond = rate.get(`p${p}`) ?? 0;
      const lagRecords = local && !embedded ? (localLag.get(p) ?? null) : (g?.committedLag.get(p) ?? null);
      const here = local && a ? a : undefined;
      const wm = here ? finite(here.watermark) : null;
      out.push({
        partition: p,
        owner: embedded ? (a ? 'local' : null) : local ? (r.kafkaIdentity?.clientId ?? null) : (ownerOf.get(p) ?? null),
        local,
        worker: local && r.workerHandles.length > 0 ? r.workerFor(p).id : null,
        recordsIn: totals.get(`p${p}`) ?? 0,
        perSecond,
        lagRecords,
        lagSeconds: lagRecords === null ? null : lagRecords === 0 ? 0 : perSecond > 0 ? lagRecords / perSecond : null,
        watermark: wm,
        eventTimeLagSeconds: wm === null || wm <= 0 ? null : Math.max(0, (now - wm) / 1000),
        checkpoints: here?.checkpoints ?? 0,
        checkpointAgeSeconds: here && here.lastCheckpointAt > 0 ? (now - here.lastCheckpointAt) / 1000 : null,
        checkpointDurationMs: here && here.lastCheckpointAt > 0 ? here.lastCheckpointMs : null,
        backpressured: here?.backpressured === true,
        mailboxRecords: local && !embedded ? (feeds.get(p)?.inflight ?? 0) : null,
        pausedSeconds: feeds.has(p) ? feeds.get(p)!.pausedMs / 1000 : null,
        undeliveredEpochs: here ? here.undeliveredEpochs : null,
        stateKeys: here ? here.stateKeys : null,
        stateBytes: here ? here.stateBytes : null,
      });
    }
    return out;
  }

  private pipelineGraph(): { nodes: StatusGraphNode[]; inputs: Array<{ from: string; to: string; tag: string | null }> } {
    if (this.graph) return this.graph;
    const nodes = this.runner.pipelineNodes();
    this.graph = {
      nodes: nodes.map((n) => ({ id: n.id, kind: n.kind, name: n.kind === 'source' ? n.sourceId : n.kind === 'sink' ? n.sinkId : n.id })),
      inputs: nodes.flatMap((n) => n.inputs.map((i) => ({ from: nodes[i.from].id, to: n.id, tag: i.tag ?? null }))),
    };
    return this.graph;
  }
}
