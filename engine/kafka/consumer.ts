/**
 * The engine's group consumer on top of kafkajs.
 *
 * The main thread only moves batches: `onBatch` is synchronous and hands each
 * batch to a worker, `eachBatch` never awaits, so the event loop stays free
 * and kafkajs' heartbeats (sent between fetches) never stall (kafkajs #1527,
 * #1719).
 *
 * Positions belong to the engine (its LMDB checkpoints); group offsets are
 * committed only for lag reporting. Hence:
 *
 * Seek before delivery. On GROUP_JOIN (emitted synchronously by kafkajs right
 * after SyncGroup, before its next fetch is built) every assigned partition is
 * paused in kafkajs, so none is fetched. `onAssigned` runs while the fetch
 * loop keeps heartbeating; when it resolves we `seek` each partition to the
 * engine's offset, mark it ready and resume it. kafkajs applies the pending
 * seek at the start of its next fetch. `eachBatch` additionally drops any
 * batch of a partition that is not ready, is paused, or has a seek pending,
 * and drops records below the partition's position, so nothing below the
 * engine's offset is delivered and nothing at or above it is skipped.
 *
 * Revocation. kafkajs speaks the eager protocol: at every rebalance a member
 * gives up all its partitions when it rejoins, and the assignment it gets
 * afterwards is computed from scratch. A partition can be handed to another
 * member the moment every member has rejoined, so the only safe time to
 * checkpoint is before our JoinGroup goes out, when we cannot yet know which
 * partitions we will keep. `onRevoked` is therefore called with every owned
 * partition at each rebalance (as Java's eager consumer does), and retained
 * ones come back through `onAssigned`. coordinator-hooks.ts makes kafkajs wait
 * for it. Delivery stops the moment a heartbeat reports the rebalance.
 *
 * Backpressure. `pause` stops delivery at once: kafkajs only filters paused
 * partitions when a fetch response arrives, so a batch already fetched would
 * still reach eachBatch; we drop it without resolving its offsets and kafkajs
 * fetches the same range again after `resume`.
 * `hold` (input alignment) only stops fetching: what was fetched is still
 * delivered (with one broker; kafkajs drops a fetch in flight on another).
 */
import { offsetOf } from './kafkajs-fast-decode.ts'; // before kafkajs loads (see there)
import './kafkajs-linear-grouping.ts'; // before kafkajs loads (see there)
import { PartitionAssigners, type EachBatchPayload, type PartitionAssigner } from 'kafkajs';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { createAdmin } from './admin.ts';
import { createKafka, toKafkaError } from './client.ts';
import { installCoordinatorHooks, type CoordinatorHooks } from './coordinator-hooks.ts';
import { PartitionTracker } from './partition-tracker.ts';
import { fromAssignment, groupByTopic, keyOf, sortTps, tpKey } from './partitions.ts';
import { FetchedBatch, firstAtOrAbove } from './fetched-batch.ts';
import type { AssignedOffsets, GroupConsumer, GroupConsumerEvent, GroupConsumerOptions, KafkaClientConfig, TopicPartition, TopicPartitionOffset } from './types.ts';

/**
 * Fetch tuning. kafkajs fetches, hands every batch of the response to
 * eachBatch, and only then fetches again, so one response is the unit of
 * main-thread work: 1 MiB per partition and 8 MiB per response bound the
 * time spent decoding in one go. minBytes 1 returns as soon as anything is
 * there (latency over batching; under load batches fill up by themselves).
 * maxWait 200 ms bounds how late a resume or a seek takes effect, since both
 * apply only when the next fetch request is built.
 */
const DEFAULTS = {
  sessionTimeoutMs: 30_000,
  rebalanceTimeoutMs: 60_000,
  partitionsConsumedConcurrently: 4,
  maxBytesPerPartition: 1 << 20,
  maxBytes: 8 << 20,
  minBytes: 1,
  maxWaitTimeMs: 200,
};

export function createGroupConsumer(cfg: KafkaClientConfig, opts: GroupConsumerOptions): GroupConsumer {
  if (!opts.groupId) throw new SluiceError(ErrorCodes.CONFIG, 'group consumer needs a groupId');
  if (!opts.topics?.length) throw new SluiceError(ErrorCodes.CONFIG, 'group consumer needs at least one topic');
  const h = opts.handlers;
  const sessionTimeout = opts.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs;
  const heartbeatInterval = opts.heartbeatIntervalMs ?? Math.max(100, Math.min(3_000, Math.floor(sessionTimeout / 10)));

  const tracker = new PartitionTracker();
  let started = false;
  let stopping = false;
  let joinedOnce = false;
  let revoking: Promise<void> | null = null;
  let assigning: Promise<void> | null = null;
  let firstJoin: { resolve(): void; reject(e: Error): void } | null = null;
  /** Subscribed topics found missing after a crash: the crash is for good (see restartOnFailure). */
  let lostTopics: string[] = [];

  /**
   * The subscribed topics that no longer exist. A consumer whose topic was
   * deleted crashes on "This server does not host this topic-partition", a
   * retriable error, and kafkajs would restart it without end, the job reading
   * nothing (issue 16, finding 3). The engine creates its topics itself and
   * never lets a client auto-create one, so a missing topic does not come back.
   */
  async function missingTopics(): Promise<string[]> {
    const admin = createAdmin({ ...cfg, clientId: `${cfg.clientId}-check` });
    try {
      const missing: string[] = [];
      for (const t of opts.topics) if ((await admin.partitionCount(t)) === undefined) missing.push(t);
      return missing;
    } finally {
      await admin.close().catch(() => {});
    }
  }

  const emit = (event: GroupConsumerEvent): void => {
    try {
      h.onEvent?.(event);
    } catch (err) {
      report(err, 'onEvent handler threw');
    }
  };

  function report(err: unknown, context: string): void {
    const e = err instanceof SluiceError ? err : new SluiceError(ErrorCodes.KAFKA, `${context}: ${String((err as Error)?.message ?? err)}`, { cause: err });
    if (h.onError) {
      try {
        h.onError(e);
        return;
      } catch {
        // fall through to stderr: an error handler that throws must not take the consumer down
      }
    }
    process.stderr.write(`[sluice kafka consumer ${opts.groupId}] ${e.message}\n`);
  }

  /**
   * Stops delivery of everything owned at once, then calls onRevoked. Calls
   * chain, so a join or leave that awaits this also waits for a revoke already
   * running. Never rejects: a failing onRevoked is reported and the partitions
   * are released anyway (the next owner re-reads from the last checkpoint).
   */
  function revokeAll(reason: string): Promise<void> {
    const tps = tracker.revokeAll();
    if (tps.length === 0) return revoking ?? Promise.resolve();
    const prev = revoking;
    const pendingAssign = assigning;
    const run = (async () => {
      await prev;
      // onRevoked must follow the onAssigned it pairs with; assigning never rejects.
      await pendingAssign;
      const list = sortTps(tps);
      emit({ type: 'revoked', partitions: list });
      try {
        await h.onRevoked(list);
      } catch (err) {
        report(err, `onRevoked (${reason}) failed`);
      }
    })();
    revoking = run;
    void run.then(() => {
      if (revoking === run) revoking = null;
    });
    return run;
  }

  const hooks: CoordinatorHooks = {
    beforeJoin: () => revokeAll('join'),
    beforeLeave: () => revokeAll('leave'),
    onRebalanceSignal: (reason) => {
      if (tracker.assignment().length > 0) emit({ type: 'rebalancing', reason });
      void revokeAll(reason);
    },
    heartbeatIntervalMs: heartbeatInterval,
    onHookError: (err) => report(err, 'coordinator hook failed'),
  };

  const hookedRoundRobin: PartitionAssigner = (ctx) => {
    installCoordinatorHooks(ctx.cluster, ctx.groupId, hooks);
    return PartitionAssigners.roundRobin(ctx);
  };

  const kafka = createKafka(cfg, 'consumer');
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    partitionAssigners: [hookedRoundRobin],
    sessionTimeout,
    heartbeatInterval,
    rebalanceTimeout: opts.rebalanceTimeoutMs ?? DEFAULTS.rebalanceTimeoutMs,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? DEFAULTS.maxBytesPerPartition,
    maxBytes: opts.maxBytes ?? DEFAULTS.maxBytes,
    minBytes: opts.minBytes ?? DEFAULTS.minBytes,
    maxWaitTimeInMs: opts.maxWaitTimeMs ?? DEFAULTS.maxWaitTimeMs,
    // Topics are created by the engine (admin.ensureTopic) with the partition count it plans for.
    allowAutoTopicCreation: false,
    // A crash before the first join fails start(); after it kafkajs restarts itself until stop(),
    // unless a subscribed topic is gone (missingTopics). A failed check restarts: the cluster may be
    // down, which passes.
    retry: {
      restartOnFailure: async () => {
        if (!joinedOnce || stopping) return false;
        lostTopics = await missingTopics().catch(() => []);
        return lostTopics.length === 0;
      },
    },
  });

  // kafkajs throws from pause/resume/seek when its group object is gone (not
  // running, or between a crash and its restart); our tracker stays the source
  // of truth and is re-applied at the next join.
  const kafkaCall = (fn: () => void): void => {
    try {
      fn();
    } catch {
      /* see above */
    }
  };

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joinedOnce = true;
    firstJoin?.resolve();
    firstJoin = null;
    const assigned = fromAssignment(event.payload.memberAssignment);
    // Synchronously, before kafkajs builds its next fetch: nothing of these is fetched until ready.
    if (assigned.length > 0) kafkaCall(() => consumer.pause(groupByTopic(assigned)));
    if (stopping) return; // never start partitions we would revoke at once; the leave hook has nothing to do
    if (tracker.assignment().length > 0) {
      // Cannot happen while the joinGroup hook is installed: it revokes everything before rejoining.
      report(new SluiceError(ErrorCodes.INTERNAL, 'group join while partitions are still owned'), 'GROUP_JOIN');
    }
    const gen = tracker.assign(assigned);
    emit({ type: 'group-join', generation: gen, assigned });
    if (assigned.length > 0) assigning = prepare(gen, assigned);
  });

  // kafkajs never calls eachBatch for a fetch that held only transaction markers (or aborted
  // records); it resolves the offset itself and reports the batch here with no messages.
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const { topic, partition, batchSize, lastOffset } = event.payload;
    if (batchSize > 0 || stopping || !h.onMarkers) return;
    const key = tpKey(topic, partition);
    if (!tracker.canDeliver(key)) return;
    try {
      h.onMarkers({ topic, partition }, Number(lastOffset) + 1);
    } catch (err) {
      report(err, `onMarkers threw for ${key}`);
    }
  });

  consumer.on(consumer.events.REBALANCING, () => {
    hooks.onRebalanceSignal('REBALANCING');
  });

  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    emit({ type: 'crash', error, restart });
    void revokeAll('crash');
    if (firstJoin) {
      firstJoin.reject(toKafkaError(error, `consumer ${opts.groupId} failed to join`));
      firstJoin = null;
    } else if (!restart && !stopping) {
      const why = lostTopics.length > 0 ? `: topic ${lostTopics.join(', ')} no longer exists (deleted while the job read it)` : '';
      report(toKafkaError(error, `consumer ${opts.groupId} crashed and will not restart${why}`), 'crash');
    }
  });

  /** Runs onAssigned for one generation, then seeks and releases its partitions. Never rejects. */
  async function prepare(gen: number, tps: TopicPartition[]): Promise<void> {
    let offsets: AssignedOffsets;
    try {
      offsets = await h.onAssigned(tps);
    } catch (err) {
      // The partitions stay paused (nothing delivered, nothing skipped) until the next rebalance.
      report(err, 'onAssigned failed; its partitions stay paused');
      return;
    }
    const ready: TopicPartition[] = [];
    const fetchable: TopicPartition[] = [];
    for (const tp of tps) {
      const key = keyOf(tp);
      let offset = offsets?.get(key) ?? -1;
      if (!Number.isSafeInteger(offset) || offset < -1) {
        report(new SluiceError(ErrorCodes.KAFKA, `onAssigned returned invalid offset ${offset} for ${key}; using -1`), 'onAssigned');
        offset = -1;
      }
      if (!tracker.markReady(gen, key, offset)) continue; // the group moved on meanwhile
      if (offset >= 0) kafkaCall(() => consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) }));
      ready.push(tp);
      if (tracker.fetchable(key)) fetchable.push(tp);
    }
    if (fetchable.length > 0) kafkaCall(() => consumer.resume(groupByTopic(fetchable)));
    if (ready.length > 0) emit({ type: 'ready', partitions: ready });
  }

  function eachBatch({ batch, resolveOffset, isStale, isRunning }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const key = tpKey(topic, partition);
    const highWatermark = Number(batch.highWatermark);
    tracker.noteHighWatermark(key, highWatermark);
    // Dropped batches are not resolved: kafkajs fetches the same range again once the partition is fetchable.
    if (stopping || !isRunning() || isStale() || !tracker.canDeliver(key)) return Promise.resolve();
    const messages = batch.messages;
    const position = tracker.position(key);
    // Records below the position are dropped: a fetch returns whole record batches.
    const first = firstAtOrAbove(messages, position ?? 0);
    const count = messages.length - first;
    // lastOffset() includes trailing control records (transaction markers), which are consumed too.
    const next = Math.max(Number(batch.lastOffset()) + 1, count > 0 ? offsetOf(messages[messages.length - 1]) + 1 : 0);
    if (count > 0) {
      try {
        const stable = Number((batch as { lastStableOffset?: string }).lastStableOffset ?? -1);
        h.onBatch(new FetchedBatch(topic, partition, messages, first, highWatermark, next, stable >= 0 ? stable : highWatermark));
      } catch (err) {
        // The engine refused the batch: hold the partition rather than refetch it in a loop.
        tracker.pause(key);
        kafkaCall(() => consumer.pause([{ topic, partitions: [partition] }]));
        report(err, `onBatch threw for ${key}; partition paused`);
        return Promise.resolve();
      }
    }
    tracker.advance(key, next);
    const newPosition = tracker.position(key)!;
    if (next >= newPosition) resolveOffset(messages[messages.length - 1].offset);
    else kafkaCall(() => consumer.seek({ topic, partition, offset: String(newPosition) }));
    return Promise.resolve();
  }

  return {
    async start() {
      if (started) throw new SluiceError(ErrorCodes.ILLEGAL_STATE, 'group consumer already started');
      started = true;
      const joined = new Promise<void>((resolve, reject) => {
        firstJoin = { resolve, reject };
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          // We resolve offsets only for what we delivered; see eachBatch.
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? DEFAULTS.partitionsConsumedConcurrently,
          eachBatch,
        });
      } catch (err) {
        throw toKafkaError(err, `consumer ${opts.groupId} failed to start`);
      }
      await joined;
    },

    async stop() {
      if (!started || stopping) return;
      stopping = true;
      // Checkpoint before the LeaveGroup releases the partitions (the leave hook would also do it).
      await revokeAll('stop');
      try {
        await consumer.disconnect();
      } catch (err) {
        throw toKafkaError(err, `consumer ${opts.groupId} failed to disconnect`);
      } finally {
        emit({ type: 'stopped' });
      }
    },

    pause(tps) {
      for (const tp of tps) tracker.pause(keyOf(tp));
      if (tps.length > 0) kafkaCall(() => consumer.pause(groupByTopic(tps)));
    },

    resume(tps) {
      const fetchable = tps.filter((tp) => tracker.resume(keyOf(tp)));
      if (fetchable.length > 0) kafkaCall(() => consumer.resume(groupByTopic(fetchable)));
    },

    hold(tps) {
      for (const tp of tps) tracker.hold(keyOf(tp));
      if (tps.length > 0) kafkaCall(() => consumer.pause(groupByTopic(tps)));
    },

    release(tps) {
      const fetchable = tps.filter((tp) => tracker.release(keyOf(tp)));
      if (fetchable.length > 0) kafkaCall(() => consumer.resume(groupByTopic(fetchable)));
    },

    async commitOffsets(offsets: TopicPartitionOffset[]) {
      if (offsets.length === 0) return;
      for (const o of offsets) {
        if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
          throw new SluiceError(ErrorCodes.KAFKA, `invalid offset ${o.offset} to commit for ${keyOf(o)}`);
        }
      }
      try {
        await consumer.commitOffsets(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
        );
      } catch (err) {
        throw toKafkaError(err, `consumer ${opts.groupId} failed to commit offsets`);
      }
    },

    assignment: () => sortTps(tracker.assignment()),
    lag: () => tracker.lag(),
  };
}
