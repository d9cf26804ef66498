/**
 * A rebalance listener for kafkajs, which has none (kafkajs 2.2.4; the project
 * is unmaintained, so these internals are frozen — a test pins them).
 *
 * The engine must checkpoint a partition before any other member can start
 * reading it. In the eager protocol kafkajs speaks, a member gives up every
 * partition when it sends JoinGroup, and the broker hands them out again as
 * soon as all members have joined. So "before release" means "before our
 * JoinGroup (or LeaveGroup) goes out". kafkajs sends those itself, right after
 * its own REBALANCING event, without awaiting anything of ours.
 *
 * We therefore wrap three methods on the group coordinator's Broker object:
 *
 * - joinGroup:  awaits `beforeJoin()` first. While it waits, we keep the old
 *               session alive with heartbeats of the previous generation (the
 *               broker answers REBALANCE_IN_PROGRESS but resets the session
 *               timer), since kafkajs sends none during a rejoin.
 * - leaveGroup: awaits `beforeLeave()` first (stop, and kafkajs' crash path).
 * - heartbeat:  an error meaning "rebalancing" or "fenced" calls
 *               `onRebalanceSignal` at once, before kafkajs has finished the
 *               batches of the current fetch, so those are not delivered.
 *
 * The coordinator Broker is reached through the cluster, which kafkajs hands
 * to partition-assigner factories; consumer.ts installs the hooks from there.
 */

export interface CoordinatorHooks {
  beforeJoin(): Promise<void>;
  beforeLeave(): Promise<void>;
  onRebalanceSignal(reason: string): void;
  /** Interval of the keepalive heartbeats sent while beforeJoin runs. */
  heartbeatIntervalMs: number;
  /** Reports unexpected failures of the hooks themselves. */
  onHookError?(err: unknown): void;
}

interface JoinGroupRequest {
  groupId: string;
  memberId?: string;
  [k: string]: unknown;
}
interface JoinGroupResponse {
  generationId: number;
  memberId: string;
  [k: string]: unknown;
}
interface HeartbeatRequest {
  groupId: string;
  groupGenerationId: number;
  memberId: string;
}
interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
}

/** The parts of kafkajs' internal Broker we wrap. */
export interface CoordinatorBroker {
  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResponse>;
  heartbeat(req: HeartbeatRequest): Promise<unknown>;
  leaveGroup(req: LeaveGroupRequest): Promise<unknown>;
}

/** The part of kafkajs' internal Cluster we wrap. */
export interface HookableCluster {
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<CoordinatorBroker>;
}

/** Error types after which this member no longer safely owns its partitions. */
export const REBALANCE_SIGNALS: ReadonlySet<string> = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR_FOR_GROUP',
  'FENCED_INSTANCE_ID',
]);

const HOOKED = Symbol('sluice.coordinatorHooks');

function assertHookable(cluster: unknown): asserts cluster is HookableCluster {
  if (typeof (cluster as Partial<HookableCluster> | null)?.findGroupCoordinator !== 'function') {
    throw new Error('kafkajs internals changed: cluster.findGroupCoordinator is missing');
  }
}

export function installCoordinatorHooks(cluster: unknown, groupId: string, hooks: CoordinatorHooks): void {
  assertHookable(cluster);
  const hookable = cluster as HookableCluster & { [HOOKED]?: true };
  if (hookable[HOOKED]) return;
  hookable[HOOKED] = true;
  const find = hookable.findGroupCoordinator.bind(cluster);
  hookable.findGroupCoordinator = async (args) => {
    const broker = await find(args);
    // coordinatorType 1 is a transaction coordinator; only the group's is ours.
    if (args.groupId === groupId && (args.coordinatorType ?? 0) === 0) hookBroker(broker, groupId, hooks);
    return broker;
  };
}

export function hookBroker(broker: CoordinatorBroker, groupId: string, hooks: CoordinatorHooks): void {
  const b = broker as CoordinatorBroker & { [HOOKED]?: true };
  if (b[HOOKED]) return;
  for (const m of ['joinGroup', 'heartbeat', 'leaveGroup'] as const) {
    if (typeof b[m] !== 'function') throw new Error(`kafkajs internals changed: Broker.${m} is missing`);
  }
  b[HOOKED] = true;
  const join = b.joinGroup.bind(broker);
  const heartbeat = b.heartbeat.bind(broker);
  const leave = b.leaveGroup.bind(broker);
  let lastGeneration: number | undefined;

  b.joinGroup = async (req) => {
    if (req.groupId === groupId) {
      const stopKeepalive =
        req.memberId && lastGeneration !== undefined
          ? keepalive(() => heartbeat({ groupId, memberId: req.memberId!, groupGenerationId: lastGeneration! }), hooks)
          : () => {};
      try {
        await hooks.beforeJoin();
      } finally {
        stopKeepalive();
      }
    }
    const res = await join(req);
    if (req.groupId === groupId) lastGeneration = res.generationId;
    return res;
  };

  b.heartbeat = async (req) => {
    try {
      return await heartbeat(req);
    } catch (err) {
      const type = (err as { type?: unknown } | null)?.type;
      if (req.groupId === groupId && typeof type === 'string' && REBALANCE_SIGNALS.has(type)) {
        try {
          hooks.onRebalanceSignal(type);
        } catch (hookErr) {
          hooks.onHookError?.(hookErr);
        }
      }
      throw err;
    }
  };

  b.leaveGroup = async (req) => {
    if (req.groupId === groupId) await hooks.beforeLeave();
    return leave(req);
  };
}

/** Heartbeats on a timer until the returned function is called; failures are expected (REBALANCE_IN_PROGRESS) and ignored. */
function keepalive(beat: () => Promise<unknown>, hooks: CoordinatorHooks): () => void {
  const timer = setInterval(() => {
    beat().catch(() => {});
  }, Math.max(100, hooks.heartbeatIntervalMs));
  return () => clearInterval(timer);
}
