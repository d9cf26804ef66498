/** `sluice run --metrics-port`: the real CLI serves /metrics and /healthz while the job runs. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveRunOptions } from '../../engine/cli/options.ts';
import { runSluice, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { parseExposition } from './exposition.ts';

const JOB = fileURLToPath(new URL('./fixtures/metrics-job.ts', import.meta.url));

describe('sluice run --metrics-port', () => {
  it('serves the job’s metrics until the job has drained after SIGTERM', async () => {
    const p = startSluice(['run', JOB, '--metrics-port', '0', '--workers', '2', '--checkpoint-interval', '200', '--state-dir', tempDir(), '--output-dir', tempDir(), '--no-progress']);
    let base = '';
    await waitFor('the metrics address on stderr', () => {
      const m = /metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(p.stderr());
      if (m) base = m[1];
      return m !== null;
    }, 60_000);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ job: 'metrics-fixture', state: 'RUNNING', ready: true });
    let e = parseExposition('');
    await waitFor('records in the metrics', async () => {
      e = parseExposition(await (await fetch(`${base}/metrics`)).text());
      return e.find('sluice_records_in_total').length === 4 && e.sum('sluice_records_in_total') > 0;
    }, 30_000);
    expect(new Set(e.find('sluice_records_in_total').map((s) => s.labels.worker))).toEqual(new Set(['0', '1']));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('rejects a port out of range as a usage error', async () => {
    const r = await runSluice(['run', JOB, '--metrics-port', '70000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--metrics-port must be a TCP port (0-65535), got "70000"');
  });

  it('takes the port and host from the environment and the config file too', () => {
    expect(resolveRunOptions({}, { SLUICE_METRICS_PORT: '9464', SLUICE_METRICS_HOST: '0.0.0.0' }, false)).toMatchObject({ metricsPort: 9464, metricsHost: '0.0.0.0' });
    expect(resolveRunOptions({ 'metrics-port': '0' }, { SLUICE_METRICS_PORT: '9464' }, false).metricsPort).toBe(0);
    expect(resolveRunOptions({}, {}, false).metricsPort).toBeUndefined();
  });
});
