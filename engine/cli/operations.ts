/**
 * `sluice status <job>` and `sluice reset <job>`: operations that read or
 * clear what a Kafka job keeps in the cluster (the consumer group, the
 * checkpoint and changelog topics) and, for reset, on this machine.
 */
import { rmSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { JobDefinition, Settings } from '../contracts/job.ts';
import { resolveJob } from '../contracts/job.ts';
import { createAdmin } from '../kafka/admin.ts';
import type { KafkaClientConfig } from '../kafka/types.ts';
import { changelogTopic, checkpointTopic, readLatestMarker, statefulOperators, type ChangelogMarker } from '../runtime/changelog.ts';
import { checkBrokersReachable } from '../kafka/reachability.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { describeRestore, readRestoreProgress, restoresTopic, type RestoreProgress } from '../runtime/restore-progress.ts';

export interface OpsTarget {
  job: JobDefinition<Settings>;
  settings: Settings;
  brokers: string[];
  groupId?: string;
  stateDir: string;
}

function names(t: OpsTarget): { group: string; app: string; topics: string[]; cfg: KafkaClientConfig } {
  if (t.brokers.length === 0) throw new SluiceError(ErrorCodes.CONFIG, 'give --brokers (or SLUICE_BROKERS)');
  const sources = resolveJob(t.job, t.settings).sources;
  const topics = Object.values(sources).flatMap((s) => (s.kind === 'kafka' ? [s.topic] : []));
  if (topics.length === 0) throw new SluiceError(ErrorCodes.CONFIG, `job ${t.job.name} reads no Kafka topic: nothing to show or reset in Kafka`);
  return {
    group: t.groupId ?? `sluice-${t.job.name}`,
    app: t.groupId ?? t.job.name,
    topics,
    cfg: { brokers: t.brokers, clientId: 'sluice-ops' },
  };
}

/** Which process owns which partition, each partition's lag, its newest checkpoint, and its latest restore (restore-progress.ts). */
export async function status(t: OpsTarget, out: (s: string) => void): Promise<void> {
  const { group, app, topics, cfg } = names(t);
  await checkBrokersReachable(t.brokers, { hint: '--brokers or SLUICE_BROKERS' });
  const admin = createAdmin(cfg);
  try {
    const g = await admin.describeGroup(group);
    out(`job ${t.job.name}: group ${group} is ${g.state}, ${g.members.length} process(es)\n`);
    const owner = new Map<number, string>();
    for (const m of g.members) {
      const ps = [...new Set(m.assignment.map((a) => a.partition))].sort((a, b) => a - b);
      for (const p of ps) owner.set(p, m.clientId);
      out(`  ${m.clientId} on ${m.clientHost}: ${ps.map((p) => `p${p}`).join(' ') || '(no partitions)'}\n`);
    }
    const ends = await Promise.all(topics.map((x) => admin.topicEndOffsets(x)));
    const committed = await Promise.all(topics.map((x) => admin.fetchCommittedOffsets(group, x)));
    const partitions = [...ends[0].keys()].sort((a, b) => a - b);
    const hasCheckpoints = (await admin.partitionCount(checkpointTopic(app))) !== undefined;
    const restores = (await admin.partitionCount(restoresTopic(app))) !== undefined ? await readRestoreProgress(cfg, app) : new Map<number, RestoreProgress>();
    out(`\n  partition  owner${' '.repeat(36)}lag        checkpoint${' '.repeat(20)}event time at the checkpoint${' '.repeat(30)}restore from the changelog\n`);
    for (const p of partitions) {
      let lag = 0;
      topics.forEach((_, i) => (lag += Math.max(0, (ends[i].get(p) ?? 0) - (committed[i].get(p) ?? 0))));
      let cp = 'none';
      let et = describeEventTime(undefined);
      if (hasCheckpoints) {
        const m = await readLatestMarker(cfg, app, p);
        if (m) cp = `epoch ${m.epoch}, ${((Date.now() - m.at) / 1000).toFixed(1)} s ago`;
        et = describeEventTime(m);
      }
      out(`  p${String(p).padEnd(10)}${(owner.get(p) ?? '(unassigned)').padEnd(41)}${String(lag).padEnd(11)}${cp.padEnd(30)}${et.padEnd(58)}${describeRestore(restores.get(p))}\n`);
    }
  } finally {
    await admin.close();
  }
}

/**
 * The partition's watermark, windows waiting to fire and live timers, as of
 * its newest checkpoint (published with the checkpoint marker). "end": every
 * input ended (a `--until end` run), every window fired; results are final.
 * "-": no watermark yet, or no checkpoint (or one from a sluice without these figures).
 */
export function describeEventTime(m: Pick<ChangelogMarker, 'wm' | 'windows' | 'timers'> | undefined): string {
  const wm = m?.wm === 'end' ? 'end' : typeof m?.wm === 'number' ? new Date(m.wm).toISOString() : '-';
  return `watermark ${wm}  windows ${m?.windows ?? '-'}  timers ${m?.timers ?? '-'}`;
}

/**
 * Deletes the job's consumer group, its checkpoint and changelog topics, and
 * the local state directory. Refuses while processes of the job are running,
 * and asks for confirmation unless `yes`.
 */
export async function reset(t: OpsTarget, yes: boolean, out: (s: string) => void): Promise<void> {
  const { group, app, cfg } = names(t);
  await checkBrokersReachable(t.brokers, { hint: '--brokers or SLUICE_BROKERS' });
  const admin = createAdmin(cfg);
  try {
    const g = await admin.describeGroup(group);
    if (g.members.length > 0) {
      throw new SluiceError(ErrorCodes.ILLEGAL_STATE, `group ${group} has ${g.members.length} running process(es); stop them before a reset`);
    }
    const existing = new Set(await admin.listTopics());
    const internal = [checkpointTopic(app), restoresTopic(app), ...statefulOperators(t.job, t.settings).map((op) => changelogTopic(app, op))].filter((x) => existing.has(x));
    out(`This deletes:\n  consumer group ${group} (its offsets)\n${internal.map((x) => `  topic ${x}\n`).join('')}  local state ${t.stateDir}${existsSync(t.stateDir) ? '' : ' (absent)'}\n`);
    if (!yes) {
      if (!process.stdin.isTTY) throw new SluiceError(ErrorCodes.CONFIG, 'not a terminal: confirm with --yes');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Type the job name (${t.job.name}) to confirm: `);
      rl.close();
      if (answer.trim() !== t.job.name) throw new SluiceError(ErrorCodes.ABORTED, 'not confirmed; nothing was deleted');
    }
    await admin.deleteGroupOffsets(group);
    await admin.deleteTopics(internal);
    rmSync(t.stateDir, { recursive: true, force: true });
    out(`reset ${t.job.name}: done\n`);
  } finally {
    await admin.close();
  }
}
