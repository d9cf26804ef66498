/** The interactive progress line: rates over the last interval, lag, and checkpoint age. */
import type { JobRunner } from '../runtime/job-runner.ts';

export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastIn = 0;
  private lastOut = 0;
  private lastAt = Date.now();

  constructor(
    private readonly runner: JobRunner,
    private readonly write: (s: string) => void,
    private readonly everyMs = 3000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.write(this.line() + '\n'), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  line(): string {
    const s = this.runner.summary();
    const now = Date.now();
    const out = Object.values(s.recordsOut).reduce((a, b) => a + b, 0);
    const dt = Math.max(0.001, (now - this.lastAt) / 1000);
    const rin = (s.recordsIn - this.lastIn) / dt;
    const rout = (out - this.lastOut) / dt;
    this.lastIn = s.recordsIn;
    this.lastOut = out;
    this.lastAt = now;
    let lag = 0;
    for (const v of this.runner.lag().values()) lag += v;
    let newest = 0;
    for (const a of this.runner.stats.values()) newest = Math.max(newest, a.lastCheckpointAt);
    const age = newest ? `${((now - newest) / 1000).toFixed(1)}s ago` : 'none yet';
    const dlq = Object.values(s.deadLetters).reduce((a, b) => a + b, 0);
    return `sluice ${s.job} | in ${fmt(rin)}/s | out ${fmt(rout)}/s | lag ${lag} | checkpoint ${age} | dead letters ${dlq}`;
  }
}

function fmt(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}
