/**
 * What the status page shows of a Kafka job beyond this process: the other
 * processes of the consumer group and what they own, every partition's lag
 * from the group's committed offsets, and restores in progress anywhere in
 * the group (read from `<app>-restores`, restore-progress.ts), as `sluice
 * status` reads them.
 *
 * Read lazily: a refresh starts when the page asks and the last one is older
 * than REFRESH_MS, and the page gets the previous answer meanwhile, so
 * nobody watching costs nothing and a slow broker never blocks a request.
 */
import { createAdmin } from '../engine/kafka/admin.ts';
import type { Admin, KafkaClientConfig } from '../engine/kafka/types.ts';
import { readRestoreProgress, restoresTopic, type RestoreProgress } from '../engine/runtime/restore-progress.ts';

export const REFRESH_MS = 3_000;

export interface GroupView {
  id: string;
  state: string;
  members: Array<{ clientId: string; host: string; partitions: number[] }>;
  /** Per partition: end offsets minus the group's committed offsets, summed over the source topics. */
  committedLag: Map<number, number>;
  restores: RestoreProgress[];
  /** When this view was read (ms since the epoch). */
  at: number;
  /** The last refresh failed: why (the view is then the previous one, or empty). */
  error?: string;
}

export class GroupReader {
  private admin: Admin | undefined;
  private view: GroupView | undefined;
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly cfg: KafkaClientConfig,
    private readonly groupId: string,
    private readonly app: string,
    private readonly topics: readonly string[],
  ) {}

  /** The latest view (undefined before the first read completes); starts a refresh when it is old. */
  current(now = Date.now()): GroupView | undefined {
    if (!this.closed && !this.refreshing && (!this.view || now - this.view.at >= REFRESH_MS)) {
      this.refreshing = this.refresh().finally(() => (this.refreshing = undefined));
    }
    return this.view;
  }

  /** Waits for a refresh in progress (tests, and the first request). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.refreshing;
    await this.admin?.close().catch(() => {});
    this.admin = undefined;
  }

  private async refresh(): Promise<void> {
    try {
      const admin = (this.admin ??= createAdmin(this.cfg));
      const g = await admin.describeGroup(this.groupId);
      const committedLag = new Map<number, number>();
      for (const t of this.topics) {
        const [ends, committed] = await Promise.all([admin.topicEndOffsets(t), admin.fetchCommittedOffsets(this.groupId, t)]);
        for (const [p, end] of ends) committedLag.set(p, (committedLag.get(p) ?? 0) + Math.max(0, end - (committed.get(p) ?? 0)));
      }
      let restores: RestoreProgress[] = [];
      if ((await admin.partitionCount(restoresTopic(this.app))) !== undefined) {
        restores = [...(await readRestoreProgress(this.cfg, this.app)).values()].filter((r) => r.state === 'restoring');
      }
      this.view = {
        id: this.groupId,
        state: g.state,
        members: g.members.map((m) => ({
          clientId: m.clientId,
          host: m.clientHost,
          partitions: [...new Set(m.assignment.map((a) => a.partition))].sort((a, b) => a - b),
        })),
        committedLag,
        restores,
        at: Date.now(),
      };
    } catch (err) {
      const message = (err as Error).message;
      this.view = this.view ? { ...this.view, at: Date.now(), error: message } : { id: this.groupId, state: 'Unknown', members: [], committedLag: new Map(), restores: [], at: Date.now(), error: message };
    }
  }
}
