import { createRequire } from 'node:module';
import { Kafka, PartitionAssigners, type PartitionAssigner } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  hookBroker,
  installCoordinatorHooks,
  type CoordinatorBroker,
  type CoordinatorHooks,
} from '../../../engine/kafka/coordinator-hooks.ts';

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function fakeBroker() {
  const calls: string[] = [];
  const heartbeats: unknown[] = [];
  let heartbeatError: unknown = null;
  let generation = 0;
  const broker: CoordinatorBroker = {
    joinGroup: vi.fn(async (req: { groupId: string; memberId?: string }) => {
      calls.push(`join:${req.groupId}`);
      return { generationId: ++generation, memberId: req.memberId || 'm1' };
    }),
    heartbeat: vi.fn(async (req) => {
      heartbeats.push(req);
      if (heartbeatError) throw heartbeatError;
    }),
    leaveGroup: vi.fn(async (req: { groupId: string }) => {
      calls.push(`leave:${req.groupId}`);
    }),
  };
  return {
    broker,
    calls,
    heartbeats,
    failHeartbeats(err: unknown) {
      heartbeatError = err;
    },
  };
}

function hooks(overrides: Partial<CoordinatorHooks> = {}): CoordinatorHooks & { signals: string[] } {
  const signals: string[] = [];
  return {
    beforeJoin: async () => {},
    beforeLeave: async () => {},
    onRebalanceSignal: (reason) => signals.push(reason),
    heartbeatIntervalMs: 100,
    signals,
    ...overrides,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('coordinator hooks', () => {
  it('holds JoinGroup until beforeJoin resolves', async () => {
    const f = fakeBroker();
    const gate = deferred();
    hookBroker(f.broker, 'g', hooks({ beforeJoin: () => gate.promise }));
    const joined = f.broker.joinGroup({ groupId: 'g', memberId: '' });
    await new Promise((r) => setTimeout(r, 20));
    expect(f.calls).toEqual([]);
    gate.resolve();
    await joined;
    expect(f.calls).toEqual(['join:g']);
  });

  it('keeps the old session alive with heartbeats of the previous generation while it waits', async () => {
    vi.useFakeTimers();
    const f = fakeBroker();
    let gate = deferred();
    gate.resolve();
    const h = hooks({ beforeJoin: () => gate.promise });
    hookBroker(f.broker, 'g', h);
    const first = await f.broker.joinGroup({ groupId: 'g', memberId: '' });
    expect(first.generationId).toBe(1);

    gate = deferred();
    f.failHeartbeats(Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' }));
    const second = f.broker.joinGroup({ groupId: 'g', memberId: 'm1' });
    await vi.advanceTimersByTimeAsync(350);
    expect(f.heartbeats).toEqual([
      { groupId: 'g', memberId: 'm1', groupGenerationId: 1 },
      { groupId: 'g', memberId: 'm1', groupGenerationId: 1 },
      { groupId: 'g', memberId: 'm1', groupGenerationId: 1 },
    ]);
    // keepalive failures are expected and must not count as a new rebalance signal
    expect(h.signals).toEqual([]);
    gate.resolve();
    await second;
    await vi.advanceTimersByTimeAsync(500);
    expect(f.heartbeats).toHaveLength(3);
  });

  it('signals at once when a heartbeat reports a rebalance or fencing, and rethrows', async () => {
    const f = fakeBroker();
    const h = hooks();
    hookBroker(f.broker, 'g', h);
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']) {
      f.failHeartbeats(Object.assign(new Error(type), { type }));
      await expect(f.broker.heartbeat({ groupId: 'g', memberId: 'm', groupGenerationId: 1 })).rejects.toThrow(type);
    }
    f.failHeartbeats(Object.assign(new Error('timeout'), { type: 'REQUEST_TIMED_OUT' }));
    await expect(f.broker.heartbeat({ groupId: 'g', memberId: 'm', groupGenerationId: 1 })).rejects.toThrow();
    expect(h.signals).toEqual(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
  });

  it('holds LeaveGroup until beforeLeave resolves', async () => {
    const f = fakeBroker();
    const gate = deferred();
    hookBroker(f.broker, 'g', hooks({ beforeLeave: () => gate.promise }));
    const left = f.broker.leaveGroup({ groupId: 'g', memberId: 'm' });
    await new Promise((r) => setTimeout(r, 20));
    expect(f.calls).toEqual([]);
    gate.resolve();
    await left;
    expect(f.calls).toEqual(['leave:g']);
  });

  it('leaves other groups alone', async () => {
    const f = fakeBroker();
    const h = hooks({ beforeJoin: () => new Promise(() => {}), beforeLeave: () => new Promise(() => {}) });
    hookBroker(f.broker, 'g', h);
    await f.broker.joinGroup({ groupId: 'other', memberId: '' });
    await f.broker.leaveGroup({ groupId: 'other', memberId: 'm' });
    f.failHeartbeats(Object.assign(new Error('x'), { type: 'REBALANCE_IN_PROGRESS' }));
    await expect(f.broker.heartbeat({ groupId: 'other', memberId: 'm', groupGenerationId: 1 })).rejects.toThrow();
    expect(f.calls).toEqual(['join:other', 'leave:other']);
    expect(h.signals).toEqual([]);
  });

  it('hooks the group coordinator found through the cluster, once, and not a transaction coordinator', async () => {
    const group = fakeBroker();
    const txn = fakeBroker();
    const cluster = {
      findGroupCoordinator: async ({ coordinatorType }: { groupId: string; coordinatorType?: number }) =>
        coordinatorType === 1 ? txn.broker : group.broker,
    };
    const gate = deferred();
    const h = hooks({ beforeJoin: () => gate.promise });
    installCoordinatorHooks(cluster, 'g', h);
    installCoordinatorHooks(cluster, 'g', h);
    const b = await cluster.findGroupCoordinator({ groupId: 'g' });
    await cluster.findGroupCoordinator({ groupId: 'g' });
    const t = await cluster.findGroupCoordinator({ groupId: 'g', coordinatorType: 1 });
    await t.joinGroup({ groupId: 'g', memberId: '' }); // not held
    const joined = b.joinGroup({ groupId: 'g', memberId: '' });
    await new Promise((r) => setTimeout(r, 10));
    expect(group.calls).toEqual([]);
    gate.resolve();
    await joined;
    expect(group.calls).toEqual(['join:g']);
    expect(txn.calls).toEqual(['join:g']);
  });

  it('fails loudly when the cluster does not look like kafkajs 2.2', () => {
    expect(() => installCoordinatorHooks({}, 'g', hooks())).toThrow(/kafkajs internals changed/);
    expect(() => hookBroker({} as CoordinatorBroker, 'g', hooks())).toThrow(/kafkajs internals changed/);
  });
});

describe('kafkajs internals the hooks rely on', () => {
  const require = createRequire(import.meta.url);

  it('is the kafkajs version they were checked against', () => {
    // Upgrading kafkajs? Re-read consumerGroup.js (JOIN calls cluster.findGroupCoordinator
    // then coordinator.joinGroup; leave() calls coordinator.leaveGroup) and runner.js.
    expect((require('kafkajs/package.json') as { version: string }).version).toBe('2.2.4');
  });

  it('passes the consumer cluster to partition assigner factories, which has findGroupCoordinator', () => {
    let cluster: unknown;
    const spy: PartitionAssigner = (ctx) => {
      cluster = ctx.cluster;
      return PartitionAssigners.roundRobin(ctx);
    };
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], clientId: 'pin', logCreator: () => () => {} });
    kafka.consumer({ groupId: 'pin', partitionAssigners: [spy] });
    expect(typeof (cluster as { findGroupCoordinator?: unknown }).findGroupCoordinator).toBe('function');
    expect(() => installCoordinatorHooks(cluster, 'pin', hooks())).not.toThrow();
  });

  it('has joinGroup, heartbeat and leaveGroup on its Broker', () => {
    const Broker = require('kafkajs/src/broker/index.js') as { prototype: Record<string, unknown> };
    for (const m of ['joinGroup', 'heartbeat', 'leaveGroup']) expect(typeof Broker.prototype[m]).toBe('function');
  });
});
