/**
 * A worker's ticks: the one path by which its actors' periodic work and
 * checkpoints start (PartitionActor.tick), with their group commit, and the
 * crash points tests inject around it.
 *
 * A tick comes from the worker's timer (every tickPeriodMs), or from the
 * batch loop after a batch when its actor's checkpoint is due: the interval
 * is up, or the epoch reached its bound (worker-input.ts). While batches
 * keep arriving, Node runs a thousand or more queued port messages per
 * event-loop turn before any timer, so the timer alone would leave the
 * epoch to grow with the whole backlog (checkpoint-schedule.ts;
 * docs/engine.md, "Memory budget"), and a catch-up would checkpoint once,
 * at its end. A flood checkpoints on the interval as a quiet stream does,
 * as Kafka Streams commits every commit.interval.ms whatever the load.
 */
import { writeSync } from 'node:fs';
import type { StoreEnvHandle } from './stores.ts';
import type { FaultPoint, PartitionActor } from './partition-actor.ts';

export class WorkerTicks {
  private checkpointsTaken = 0;
  /** Inside tickAll's shared LMDB transaction. */
  private grouping = false;
  private deferredCrash: FaultPoint | undefined;

  constructor(
    private readonly env: StoreEnvHandle,
    private readonly actors: () => PartitionActor[],
    /** The actor failed in its tick: it is destroyed, and the job hears why. */
    private readonly failed: (actor: PartitionActor, err: Error) => void,
    private readonly crashAt: { point: string; afterCheckpoints: number } | undefined,
  ) {}

  /**
   * Ticks every actor. When several checkpoint in the same tick, their
   * commits share ONE LMDB transaction, so one fsync instead of one each:
   * an actor's commit is then a child transaction (lmdb-js nests
   * transactionSync), which a failing actor aborts alone. The epochs are
   * durable only when the outer transaction commits, so their deliveries
   * are held until then, and an injected after-commit crash waits for it.
   * checkpoint() runs synchronously up to its commit, so calling tick()
   * inside the callback puts every commit inside the transaction; and when
   * tickAll() returns its promise, every checkpoint of this tick is committed.
   */
  async tickAll(): Promise<void> {
    const now = Date.now();
    const actors = this.actors();
    const group = actors.filter((a) => a.checkpointDue(now)).length > 1;
    const ticks: Array<Promise<void>> = [];
    if (!group) {
      for (const a of actors) ticks.push(a.tick());
    } else {
      for (const a of actors) a.holdDeliveries(true);
      this.grouping = true;
      try {
        this.env.env.root.transactionSync(() => {
          for (const a of actors) ticks.push(a.tick());
        });
      } catch (err) {
        // The shared commit failed: no actor's checkpoint of this tick is durable,
        // and their memory says it is. They end here; nothing of theirs is delivered.
        for (const a of actors) this.failed(a, err as Error);
        return;
      } finally {
        this.grouping = false;
      }
      if (this.deferredCrash) this.crash(this.deferredCrash);
      for (const a of actors) a.holdDeliveries(false);
    }
    for (let i = 0; i < actors.length; i++) {
      try {
        await ticks[i];
      } catch (err) {
        this.failed(actors[i], err as Error);
      }
    }
  }

  /** The actor's fault hook (ActorOptions.fault), when the worker was started with a crash point. */
  get fault(): ((p: FaultPoint) => void) | undefined {
    return this.crashAt ? (p) => this.maybeCrash(p) : undefined;
  }

  private maybeCrash(point: FaultPoint): void {
    const c = this.crashAt!;
    if (point === 'after-commit') this.checkpointsTaken++;
    if (point !== c.point || this.checkpointsTaken < c.afterCheckpoints) return;
    // Inside a shared commit (tickAll) the checkpoint is durable only when the outer transaction is.
    if (point === 'after-commit' && this.grouping) this.deferredCrash = point;
    else this.crash(point);
  }

  private crash(point: FaultPoint): void {
    // Straight to fd 2: a worker's process.stderr goes through the main thread, too late.
    writeSync(2, `sluice: injected crash at ${point} after ${this.checkpointsTaken} checkpoints\n`);
    // The whole process, at once, as a power cut would: process.exit() in a worker would end
    // only this thread, and leave its LMDB write lock held inside a process that lives on.
    process.kill(process.pid, 'SIGKILL');
  }
}
