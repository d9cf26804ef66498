/**
 * The env file `sluice dev up` writes and `sluice run` reads (engine/cli/options.ts):
 * `KEY=value` lines, so a shell can also source it (`set -a; . .sluice/dev.env; set +a`).
 */

/** Where `sluice dev up` writes it and `sluice run` looks for it, relative to the working directory. */
export const DEFAULT_ENV_FILE = '.sluice/dev.env';

/** `KEY=value` lines (optionally `export KEY="value"`); blank lines and # comments skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^export\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    out[line.slice(0, eq).trim()] = v;
  }
  return out;
}
