/**
 * `npm run bench`: the benchmark scenarios.
 *
 *   npm run bench                          every scenario below, then renders bench/README.md
 *   npm run bench -- <scenario> [--k v]    one scenario (options override its defaults), then renders
 *   npm run bench -- list                  scenarios and their options
 *   npm run bench -- render                only re-renders bench/README.md from bench/results/
 *
 * Scenarios write bench/results/<YYYY-MM-DD>-<scenario>.json (bench-harness.ts).
 * `codec`, `state` and `metrics-overhead` run the standalone scripts
 * bench/codec.ts, bench/state.ts and bench/metrics-overhead.ts in a child
 * process; they are not part of the default set, nor is `kafka-spark`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { figure, loadNow, log, processPeakRssMiB, resetPeakRss, writeScenarioResult } from './bench-harness.ts';
import { renderReadme } from './render-readme.ts';
import type { Scenario, ScenarioOptions } from './scenario.ts';
import { distributionScenario } from './scenarios/distribution.ts';
import { engineScenario } from './scenarios/engine.ts';
import { kafkaScenario } from './scenarios/kafka.ts';
import { kafkaCatchupScenario } from './scenarios/kafka-catchup.ts';
import { kafkaSparkScenario } from './scenarios/kafka-spark.ts';
import { nexmarkScenario } from './scenarios/nexmark.ts';
import { nexmarkKafkaScenario } from './scenarios/nexmark-kafka.ts';
import { producerScenario } from './scenarios/producer.ts';
import { stateScaleScenario } from './scenarios/state-scale.ts';
import { usersSinksScenario } from './scenarios/users-sinks.ts';

const scenarios: Scenario[] = [engineScenario, distributionScenario, nexmarkScenario, nexmarkKafkaScenario, kafkaScenario, kafkaCatchupScenario, kafkaSparkScenario, producerScenario, stateScaleScenario, usersSinksScenario];
/** Run only when named: kafka-spark is a narrower rerun of kafka (which already includes the Spark peer); producer measures one component. */
const notDefault = new Set(['kafka-spark', 'producer']);
const scripts: Record<string, string> = { codec: 'bench/codec.ts', state: 'bench/state.ts', 'metrics-overhead': 'bench/metrics-overhead.ts' };

const root = fileURLToPath(new URL('..', import.meta.url));

/** `--key value`, `--key=value` and bare `--flag` into options, coerced to the defaults' types. */
export function parseOptions(defaults: ScenarioOptions, argv: string[]): ScenarioOptions {
  const out: ScenarioOptions = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}" (options are --name value)`);
    const [k, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let v = inline;
    if (v === undefined) v = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
    if (!(k in defaults)) throw new Error(`unknown option --${k}; options: ${Object.keys(defaults).map((x) => `--${x}`).join(' ')}`);
    const d = defaults[k];
    if (typeof d === 'number') {
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isFinite(n)) throw new Error(`--${k} must be a number, got "${v}"`);
      out[k] = n;
    } else if (typeof d === 'boolean') out[k] = /^(true|1|yes)$/i.test(v);
    else out[k] = v;
  }
  return out;
}

async function runScenario(s: Scenario, argv: string[]): Promise<void> {
  const options = parseOptions(s.defaults, argv);
  const command = `npm run bench -- ${[s.name, ...argv].join(' ')}`;
  log(`${s.name}: ${JSON.stringify(options)}`);
  const load = loadNow();
  const reset = resetPeakRss();
  const result = await s.run(options);
  // Every scenario reports the peak RSS of the bench process over its run (in-process
  // contenders, loaders, the harness); child processes report their own figures.
  const peak = processPeakRssMiB();
  if (peak !== undefined) {
    result.figures.push(figure({ process: 'bench process, whole scenario' }, 'peak RSS', 'MiB', [peak]));
    result.notes.push(`Peak RSS of the bench process over the whole scenario (VmHWM${reset ? ', reset at its start' : ', since the process started'}): in-process contenders, data loaders and the harness together; child processes (JVM peers, the kafka-catchup and state-scale children) are not in it and report their own.`);
  }
  const file = writeScenarioResult(s.name, command, load, result);
  log(`${s.name}: wrote ${file}`);
}

function runScript(name: string, argv: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', scripts[name], ...argv], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${scripts[name]} exited with ${r.status ?? r.signal}`);
}

function usage(): string {
  const lines = ['usage: npm run bench [-- <scenario> [--option value ...] | list | render]', '', 'scenarios:'];
  for (const s of scenarios) {
    lines.push(`  ${s.name.padEnd(12)} ${s.description}`);
    lines.push(`  ${''.padEnd(12)} ${Object.entries(s.defaults).map(([k, v]) => `--${k} ${v}`).join(' ')}`);
  }
  for (const [name, file] of Object.entries(scripts)) lines.push(`  ${name.padEnd(12)} node --import tsx ${file} (not in the default set)`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === 'list' || name === 'help' || name === '--help') {
      process.stdout.write(usage());
      return 0;
    }
    if (name === 'render') {
      log(`wrote ${renderReadme()}`);
      return 0;
    }
    if (name === undefined) {
      for (const s of scenarios) if (!notDefault.has(s.name)) await runScenario(s, []);
    } else if (scripts[name]) {
      runScript(name, rest);
    } else {
      const s = scenarios.find((x) => x.name === name);
      if (!s) {
        process.stderr.write(`unknown scenario "${name}"\n\n${usage()}`);
        return 2;
      }
      await runScenario(s, rest);
    }
    log(`wrote ${renderReadme()}`);
    return 0;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
