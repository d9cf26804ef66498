/**
 * `sluice`: the runner. Generic: the built-in jobs and any extra commands come
 * in as a `CliApp` from the composition root (cli/sluice.ts), so that engine/
 * never imports jobs/.
 *
 *   sluice run <job> [options]   run a built-in job by name, or a job module by path
 *   sluice list                  list the built-in jobs
 *   sluice help | --help
 *
 * Exit codes: 0 done (input finished, or drained after SIGINT/SIGTERM);
 * 1 the job failed; 2 bad usage or configuration; 3 job not found;
 * 4 the drain did not finish within --shutdown-timeout.
 */
import { parseArgs } from 'node:util';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { applySettings, loadJob, resolveJobModule, type JobCatalog } from '../runtime/job-loader.ts';
import { JobRunner, type JobSummary } from '../runtime/job-runner.ts';
import { resolveRunOptions, type RawCli } from './options.ts';
import { ProgressReporter } from './progress.ts';
import { registerScrapeTarget } from './prometheus-target.ts';
import { reset, status } from './operations.ts';
import { exitNow } from './exit-now.ts';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_FOUND: 3, DRAIN_TIMEOUT: 4 } as const;

const HELP_TEMPLATE = `sluice: a stream-processing engine for Node.js

Usage:
  sluice run <job> [options]    run a built-in job, or the job module at a path
  sluice list                   list the built-in jobs
  sluice status <job> [options] which process owns which partition, lag, checkpoints (Kafka jobs)
  sluice reset <job> [--yes]    delete the job's group offsets, changelogs and local state
  sluice help                   show this help
%COMMANDS%
Options for run:
  --workers N                   worker threads (default: the number of cores)
  --brokers host:port,...       Kafka bootstrap servers (env SLUICE_BROKERS)
  --state-dir DIR               LMDB state directory (default .sluice/state/<job>)
  --output-dir DIR              local output directory (default .sluice/output/<job>)
  --set key=value               a job setting; repeatable (env SLUICE_SET="k=v,k=v")
  --config FILE                 JSON file with options and "settings"
  --checkpoint-interval MS      checkpoint interval (default 1000)
  --group-id ID                 Kafka consumer group (default sluice-<job>)
  --session-timeout MS          Kafka session timeout: how soon a dead process's partitions move (default 30000)
  --cache-max-entries N         hot state entries kept in memory per partition
  --worker-heap-mb MB           heap limit of each worker thread: collects sooner, dies above it (default: V8's)
  --max-epoch-records N         a checkpoint at N dirty state entries or output records per partition (default: none)
  --max-undelivered-records N   input pauses while N records per partition wait for delivery (default: 100000)
  --max-inflight-bytes N        a partition's Kafka input pauses while N bytes wait in its worker (default: 16 MiB)
  --input-alignment MS          a partition's Kafka inputs are read within MS of each other in record time: the one
                                ahead waits while another catches up (default 10000; 0: off)
  --shutdown-timeout MS         bound on the drain after SIGINT/SIGTERM (default 30000)
  --until end                   a bounded run (replay, backfill): read every Kafka input up to the end offsets
                                taken at start, advance event time to the end so every window and timer fires,
                                deliver, checkpoint and exit 0. Results are then final.
  --connect-timeout MS          bound on reaching Kafka and the sinks' servers at start (default 15000;
                                env SLUICE_CONNECT_TIMEOUT_MS)
  --verbose                     Kafka client details and error stacks in the log (env SLUICE_VERBOSE=1)
  --adopt-state                 a state directory with checkpoints but no identity.json (written by an older
                                sluice): record this run's identity for it and use its checkpoints
  --offset-reset fail|earliest|latest
                                a checkpointed Kafka offset the topic no longer holds (retention): fail (default),
                                or skip forward to the earliest or latest offset (env SLUICE_OFFSET_RESET)
  --metrics-port PORT           serve the status page (/), /api/status, Prometheus /metrics and /healthz
                                on PORT (default 0: any free port; the address is printed)
  --metrics-host HOST           interface to serve them on (default 127.0.0.1; 0.0.0.0 for every interface)
  --no-http                     serve none of them (metrics off)
  --env-from FILE               read SLUICE_* settings from FILE (default: .sluice/dev.env if it exists,
                                written by \`sluice dev up\`); the environment and flags win over it
  --sink-retry-for MS           how long a failing sink delivery is retried before the job fails (default 300000)
  --sink-backoff-max MS         longest wait between two retries of a sink delivery (default 10000; from 200, doubling)
  --stall-after MS              a sink failing this long turns /healthz to 503, naming the partition (default 30000)
  --progress / --no-progress    a progress line on stderr (default: when stderr is a terminal)

Exit codes: 0 done, 1 job failed, 2 usage/config error, 3 job not found, 4 drain timed out.
`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** A command beyond run/list/status/reset, with its own argument parsing. */
export interface CliCommand {
  /** One help line, e.g. "sluice produce orders-payments [options]   write ...". */
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** What the runner serves: the jobs `sluice list` shows and `sluice run <name>` finds, and extra commands. */
export interface CliApp {
  readonly jobs: JobCatalog;
  readonly commands?: Readonly<Record<string, CliCommand>>;
}

function helpText(app: CliApp): string {
  const lines = Object.values(app.commands ?? {}).map((c) => `  ${c.usage}\n`).join('');
  return HELP_TEMPLATE.replace('%COMMANDS%', lines);
}

const stdio: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export async function main(argv: string[], io: CliIo = stdio, app: CliApp = { jobs: {} }): Promise<number> {
  const HELP = helpText(app);
  // An extra command has options of its own: dispatch before the runner's parser.
  const extra = argv[0] !== undefined && app.commands && Object.hasOwn(app.commands, argv[0]) ? app.commands[argv[0]] : undefined;
  if (extra) return extra.run(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        workers: { type: 'string', short: 'w' },
        brokers: { type: 'string', short: 'b' },
        'state-dir': { type: 'string' },
        'output-dir': { type: 'string' },
        set: { type: 'string', multiple: true, short: 's' },
        config: { type: 'string', short: 'c' },
        'checkpoint-interval': { type: 'string' },
        'group-id': { type: 'string' },
        'session-timeout': { type: 'string' },
        'cache-max-entries': { type: 'string' },
        'worker-heap-mb': { type: 'string' },
        'max-epoch-records': { type: 'string' },
        'max-undelivered-records': { type: 'string' },
        'max-inflight-bytes': { type: 'string' },
        'input-alignment': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'connect-timeout': { type: 'string' },
        verbose: { type: 'boolean' },
        'offset-reset': { type: 'string' },
        'adopt-state': { type: 'boolean' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'sink-retry-for': { type: 'string' },
        'sink-backoff-max': { type: 'string' },
        'stall-after': { type: 'string' },
        progress: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        'no-http': { type: 'boolean' },
        'env-from': { type: 'string' },
        until: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
      },
    });
  } catch (err) {
    io.err(`sluice: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.USAGE;
  }
  const [cmd, ...rest] = parsed.positionals;
  if (parsed.values.help || cmd === undefined || cmd === 'help') {
    io.out(HELP);
    return cmd === undefined && !parsed.values.help ? EXIT.USAGE : EXIT.OK;
  }
  if (cmd === 'list') {
    for (const [name, j] of Object.entries(app.jobs)) io.out(`${name.padEnd(24)} ${j.description}\n`);
    return EXIT.OK;
  }
  if (cmd === 'status' || cmd === 'reset') {
    if (rest.length !== 1) {
      io.err(`sluice ${cmd}: give exactly one job\n`);
      return EXIT.USAGE;
    }
    return operate(cmd, rest[0], parsed.values as RawCli & { yes?: boolean }, io, app.jobs);
  }
  if (cmd !== 'run') {
    io.err(`sluice: unknown command "${cmd}"\n\n${HELP}`);
    return EXIT.USAGE;
  }
  if (rest.length !== 1) {
    io.err(`sluice run: give exactly one job (a built-in name or a path)\n`);
    return EXIT.USAGE;
  }
  return run(rest[0], parsed.values as RawCli, io, app.jobs);
}

/**
 * Crash tests only: SLUICE_FAULT_INJECT="<phase>:<n>" SIGKILLs the process at
 * that checkpoint phase (after-prepare, after-commit, after-deliver, after-ack)
 * once a worker has taken n checkpoints. Not in the help: it is not for users.
 */
function faultInjection(raw: string | undefined): { point: string; afterCheckpoints: number } | undefined {
  if (!raw) return undefined;
  const m = /^(after-prepare|after-commit|after-deliver|after-ack):(\d+)$/.exec(raw);
  if (!m) throw new SluiceError(ErrorCodes.CONFIG, `SLUICE_FAULT_INJECT must be <phase>:<checkpoints>, got "${raw}"`);
  return { point: m[1], afterCheckpoints: Number(m[2]) };
}

async function run(jobArg: string, cli: RawCli, io: CliIo, jobs: JobCatalog): Promise<number> {
  let runner: JobRunner | undefined;
  try {
    const opts = resolveRunOptions(cli);
    // Read by the Kafka log creator in every thread (workers copy the environment at start).
    if (opts.verbose) process.env.SLUICE_VERBOSE = '1';
    const moduleUrl = resolveJobModule(jobArg, jobs);
    const job = await loadJob(moduleUrl);
    const settings = applySettings(job.settings, { ...devSettings(opts.devSet, job.settings), ...opts.set }, job.choices);
    if (opts.envFile) io.err(`sluice: settings from ${opts.envFile}\n`);
    runner = new JobRunner({
      jobModule: moduleUrl,
      job,
      settings,
      workers: opts.workers,
      brokers: opts.brokers,
      stateDir: opts.stateDir,
      outputDir: opts.outputDir,
      checkpointIntervalMs: opts.checkpointIntervalMs,
      cacheMaxEntries: opts.cacheMaxEntries,
      workerHeapMb: opts.workerHeapMb,
      maxEpochRecords: opts.maxEpochRecords,
      maxUndeliveredRecords: opts.maxUndeliveredRecords,
      maxInflightBytes: opts.maxInflightBytes,
      inputAlignmentMs: opts.inputAlignmentMs,
      groupId: opts.groupId,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      shutdownTimeoutMs: opts.shutdownTimeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      offsetReset: opts.offsetReset,
      adoptState: cli['adopt-state'] === true,
      jobArg,
      // Every run serves its status page unless told not to: on a free port unless one is given.
      metricsPort: cli['no-http'] ? undefined : (opts.metricsPort ?? 0),
      metricsHost: opts.metricsHost,
      delivery: opts.delivery,
      crashAt: faultInjection(process.env.SLUICE_FAULT_INJECT),
      onWarning: (m) => io.err(`sluice: warning: ${m}\n`),
      untilEnd: opts.untilEnd,
    });
    const started = runner;
    // Whether an earlier run left checkpoints here: only then does reading nothing mean "already consumed".
    const hadCheckpoints = existsSync(join(runner.runtime.stateDir, 'data.mdb'));
    io.err(`sluice: running ${job.name} (pid ${process.pid}, state ${runner.runtime.stateDir})\n`);
    const progress = opts.progress ? new ProgressReporter(runner, io.err) : undefined;
    let unregister: (() => void) | undefined;
    let signalled = false;
    const onSignal = (sig: string): void => {
      if (signalled) {
        io.err(`sluice: second ${sig}, exiting without a final checkpoint\n`);
        exitNow(EXIT.DRAIN_TIMEOUT);
      }
      signalled = true;
      io.err(`sluice: ${sig}: draining (final checkpoint, output delivered)...\n`);
      started.stop().catch(() => {});
      // The bound: if the drain hangs, exit anyway; the next start resumes from the last checkpoint.
      // The runner's own timeout (workers' stop) normally ends the run first; this backstop comes
      // 1 s later, so the process is gone within 2 s of the timeout either way (issue 16).
      setTimeout(() => {
        io.err(`sluice: drain did not finish within ${opts.shutdownTimeoutMs} ms\n`);
        exitNow(EXIT.DRAIN_TIMEOUT);
      }, opts.shutdownTimeoutMs + 1_000).unref();
    };
    const orphanWatch = watchNpmParent(() => onSignal('npm exited (SIGTERM)'));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runner.start();
      const m = runner.metricsAddress;
      if (m) io.err(`sluice: status page at http://${m.host}:${m.port}/ (metrics at http://${m.host}:${m.port}/metrics, health at /healthz)\n`);
      if (m && opts.prometheusTargetsDir) unregister = registerScrapeTarget(opts.prometheusTargetsDir, job.name, m);
      progress?.start();
      const summary = await runner.wait();
      progress?.stop();
      if (opts.untilEnd) io.err(`sluice: until end: read to the end offsets of ${runner.inputTopics.join(', ')} taken at start; every window closed, output delivered\n`);
      printSummary(summary, io, hadCheckpoints);
      return EXIT.OK;
    } finally {
      unregister?.();
      progress?.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearInterval(orphanWatch);
    }
  } catch (err) {
    const e = err as SluiceError;
    // The cause's message, unless the message already holds it (a compile error's text is printed once).
    const cause = e.cause instanceof Error && !e.message.includes(e.cause.message) ? ` (cause: ${e.cause.message})` : '';
    // One line; a job that failed while running names the component, the partition and the cause (job-runner.ts fail()).
    io.err(`sluice: ${e.message}${cause}\n`);
    const code =
      e.code === ErrorCodes.JOB_NOT_FOUND ? EXIT.NOT_FOUND
      : e.code === ErrorCodes.CONFIG || e.code === ErrorCodes.PARTITION_MISMATCH ? EXIT.USAGE
      : e.code === ErrorCodes.TIMEOUT ? EXIT.DRAIN_TIMEOUT
      : EXIT.FAILED;
    // A failed job's workers were terminated wherever they were, possibly inside
    // an LMDB transaction: a normal exit would wait on their teardown (exit-now.ts).
    if (runner !== undefined && runner.state === 'FAILED' && runner.workerHandles.length > 0) exitNow(code);
    return code;
  }
}

/**
 * npm and npx start a command through `sh -c`, and forward a signal only to
 * that shell, which dies of it without passing it on: the job would run on,
 * orphaned (issue 16, finding 6). Under npm (it sets npm_command), the parent's
 * exit therefore counts as the signal. Outside npm the job outlives its parent
 * as any process does (nohup, a shell's background job).
 */
function watchNpmParent(onGone: () => void, env: NodeJS.ProcessEnv = process.env): NodeJS.Timeout | undefined {
  if (!env.npm_command) return undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, 250);
  timer.unref();
  return timer;
}

async function operate(cmd: 'status' | 'reset', jobArg: string, cli: RawCli & { yes?: boolean }, io: CliIo, jobs: JobCatalog): Promise<number> {
  try {
    const opts = resolveRunOptions(cli);
    // Read by the Kafka log creator in every thread (workers copy the environment at start).
    if (opts.verbose) process.env.SLUICE_VERBOSE = '1';
    const job = await loadJob(resolveJobModule(jobArg, jobs));
    const target = {
      job,
      settings: applySettings(job.settings, { ...devSettings(opts.devSet, job.settings), ...opts.set }, job.choices),
      brokers: opts.brokers,
      groupId: opts.groupId,
      stateDir: resolve(opts.stateDir ?? join('.sluice', 'state', job.name)),
    };
    if (cmd === 'status') await status(target, io.out);
    else await reset(target, cli.yes === true, io.out);
    return EXIT.OK;
  } catch (err) {
    const e = err as SluiceError;
    io.err(`sluice ${cmd}: ${e.message}\n`);
    if (e.code === ErrorCodes.JOB_NOT_FOUND) return EXIT.NOT_FOUND;
    if (e.code === ErrorCodes.CONFIG || e.code === ErrorCodes.ABORTED) return EXIT.USAGE;
    return EXIT.FAILED;
  }
}

function printSummary(s: JobSummary, io: CliIo, hadCheckpoints: boolean): void {
  const secs = s.elapsedMs / 1000;
  const out = Object.values(s.recordsOut).reduce((a, b) => a + b, 0);
  const dlq = Object.values(s.deadLetters).reduce((a, b) => a + b, 0);
  io.out(
    [
      `job ${s.job}: ${s.state} after ${secs.toFixed(1)} s`,
      `  records in:   ${s.recordsIn} (${Math.round(s.recordsIn / Math.max(secs, 0.001))} records/s)`,
      `  records out:  ${out} ${JSON.stringify(s.recordsOut)}`,
      `  dead letters: ${dlq} ${dlq ? JSON.stringify(s.deadLetters) : ''}`,
      ...Object.entries(s.operatorCounts).map(([k, v]) => `  ${k}: ${v}`),
      `  checkpoints:  ${s.checkpoints}`,
      `  output:       ${s.outputDir}`,
      `  state:        ${s.stateDir}`,
      ...(s.recordsIn === 0
        ? [hadCheckpoints
            ? `  (nothing new to read: the checkpoints in ${s.stateDir} say this input was consumed; to start over remove it and the job's output (rm -rf .sluice for the built-in jobs), or run "sluice reset" for a Kafka job)`
            : '  (no records: the sources delivered none)']
        : []),
      '',
    ].join('\n'),
  );
}

/** The `sluice dev` settings this job declares (the others name servers it does not use). */
function devSettings(devSet: Record<string, string>, declared: object | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(devSet).filter(([k]) => declared !== undefined && k in declared));
}
