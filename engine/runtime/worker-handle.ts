/**
 * The main thread's handle on one worker thread: request/response over
 * postMessage with correlation ids, and the worker's lifecycle as the main
 * thread sees it.
 *
 *   CREATED ──start()──▶ STARTING ──ready──▶ READY ──stop()──▶ STOPPING ──▶ STOPPED
 *      │                    │                  │                  │
 *      └────────────────────┴──── crash / fatal error ────────────┴──▶ FAILED
 */
import type { Worker } from 'node:worker_threads';
import { deserializeError, ErrorCodes, SluiceError } from '../errors.ts';
import { Lifecycle } from './lifecycle.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { transferList, type RecordBatchWire } from './record-batch.ts';
import { siblingModule, spawnWorker } from './spawn-worker.ts';

export type WorkerHandleState = 'CREATED' | 'STARTING' | 'READY' | 'STOPPING' | 'STOPPED' | 'FAILED';

const LEGAL: Record<WorkerHandleState, readonly WorkerHandleState[]> = {
  CREATED: ['STARTING', 'FAILED'],
  STARTING: ['READY', 'FAILED'],
  READY: ['STOPPING', 'FAILED'],
  STOPPING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve(msg: FromWorker): void; reject(err: Error): void };

/**
 * A worker's young generation (V8's nursery), MiB. A worker allocates per
 * record (decoded values, batches, state entries, changelog records) and
 * nearly all of it dies within the batch; with V8's default nursery much of
 * it lived through enough scavenges to be promoted, and garbage collection
 * was 10-13 % of a worker's CPU in the orders-payments catch-up. At 96 MiB
 * the job did 78-107 k records per CPU-second against 75-113 k (medians 103 k
 * and 84 k, five runs each side by side, load average 24-49), with no higher
 * peak RSS (1.6-1.8 GiB both; bench/notes/30-kafka.md).
 */
const WORKER_YOUNG_GENERATION_MB = 96;

export class WorkerHandle {
  readonly lifecycle: Lifecycle<WorkerHandleState>;
  private worker!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Rejects start() (set while STARTING). */
  private startReject: ((err: Error) => void) | undefined;

  constructor(
    readonly init: WorkerInit,
    private readonly onMessage: (w: WorkerHandle, msg: FromWorker) => void,
    private readonly onFailure: (w: WorkerHandle, err: Error) => void,
  ) {
    this.lifecycle = new Lifecycle<WorkerHandleState>(`worker ${init.workerId}`, 'CREATED', LEGAL);
  }

  get id(): number {
    return this.init.workerId;
  }

  start(): Promise<void> {
    this.lifecycle.transition('STARTING');
    this.worker = spawnWorker(siblingModule('./worker-main.ts', import.meta.url), { workerData: this.init, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, ...(this.init.runtime.workerHeapMb ? { maxOldGenerationSizeMb: this.init.runtime.workerHeapMb } : {}) } });
    return new Promise((resolve, reject) => {
      this.startReject = reject;
      this.worker.on('message', (msg: FromWorker) => {
        if (msg.t === 'ready') {
          this.lifecycle.transition('READY');
          resolve();
          return;
        }
        if (msg.t === 'failed' && msg.fatal && this.lifecycle.is('STARTING')) {
          this.lifecycle.transition('FAILED');
          reject(deserializeError(msg.error));
          return;
        }
        this.route(msg);
      });
      this.worker.on('error', (err) => this.fail(err, reject));
      this.worker.on('exit', (code) => {
        if (!this.lifecycle.is('STOPPED', 'FAILED')) {
          this.fail(new SluiceError(ErrorCodes.WORKER, `worker ${this.id} exited with code ${code}`), reject);
        }
      });
    });
  }

  private fail(err: Error, reject?: (e: Error) => void): void {
    if (this.lifecycle.is('STOPPED', 'FAILED')) return;
    const starting = this.lifecycle.is('STARTING');
    this.lifecycle.transition('FAILED');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (starting && reject) reject(err);
    else this.onFailure(this, err);
  }

  private route(msg: FromWorker): void {
    const id = (msg as { id?: number }).id;
    if (id !== undefined && id > 0 && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      if (msg.t === 'failed') p.reject(deserializeError(msg.error));
      else p.resolve(msg);
      return;
    }
    if (msg.t === 'failed' && msg.fatal) {
      this.onFailure(this, deserializeError(msg.error));
      return;
    }
    this.onMessage(this, msg);
  }

  request<T extends FromWorker>(msg: DistributiveOmit<Extract<ToWorker, { id: number }>, 'id'>): Promise<T> {
    if (!this.lifecycle.is('READY', 'STOPPING')) {
      return Promise.reject(new SluiceError(ErrorCodes.ILLEGAL_STATE, `worker ${this.id} is ${this.lifecycle.state}`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: FromWorker) => void, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }

  sendBatch(actorId: string, input: number, wire: RecordBatchWire): void {
    const msg: ToWorker = { t: 'batch', actorId, input, wire };
    this.worker.postMessage(msg, transferList(wire));
  }

  /** Input `input` of the actor has no more records (a bounded run); ordered after the batches sent before it. */
  endInput(actorId: string, input: number): void {
    const msg: ToWorker = { t: 'end-input', actorId, input };
    this.worker.postMessage(msg);
  }

  /** Drains the worker: every actor closes cleanly (final checkpoint, output delivered), then the thread ends. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.lifecycle.is('READY')) return;
    this.lifecycle.transition('STOPPING');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SluiceError(ErrorCodes.TIMEOUT, `worker ${this.id} did not drain within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.request({ t: 'shutdown' }), timeout]);
      this.lifecycle.transition('STOPPED');
    } finally {
      clearTimeout(timer);
      // A drain that timed out ends here: FAILED before the terminate, so that the
      // thread's exit is not reported as a second, different failure ("exited with
      // code 1") that would hide the timeout.
      if (!this.lifecycle.is('STOPPED', 'FAILED')) this.lifecycle.transition('FAILED');
      await this.worker.terminate();
    }
  }

  /**
   * Aborts: terminates the thread without a final checkpoint. Whatever waits on
   * this worker (its start, a request) rejects with `err`: a terminated thread
   * never answers, and a promise left pending with no handle behind it ends the
   * process with Node's "unsettled top-level await" (exit 13) instead of the
   * job's failure (seen when one worker failed while another opened its actors).
   */
  destroy(err: Error = new SluiceError(ErrorCodes.ABORTED, `worker ${this.id} destroyed`)): void {
    const starting = this.lifecycle.is('STARTING');
    if (!this.lifecycle.is('STOPPED', 'FAILED')) this.lifecycle.transition('FAILED');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (starting) this.startReject?.(err);
    void this.worker?.terminate();
  }
}
