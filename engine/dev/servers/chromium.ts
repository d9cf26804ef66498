/**
 * Chromium for the status page's browser test: Debian's `chromium` package,
 * driven by playwright-core (which brings no browser of its own).
 *
 * `installChromium()` is idempotent: when the binary is there it returns at
 * once; otherwise it runs `apt-get update` and `apt-get install -y chromium`
 * (through sudo when not root). Without apt it fails at once, naming what to
 * install. SLUICE_CHROMIUM_BIN points at another Chromium instead.
 *
 * `chromiumLaunchOptions()` are the flags the tests launch it
 * with: headless, no sandbox (CI runs as root), and nothing that phones home
 * (no component updates, sync, QUIC or background networking), so it works
 * offline.
 */
import { existsSync } from 'node:fs';
import { MissingToolError } from './prerequisites.ts';
import { runCommand, tailLines } from './process.ts';

export const CHROMIUM_PACKAGE = 'chromium';
const DEFAULT_BIN = '/usr/bin/chromium';

const HINT =
  'The browser test needs Debian\'s `chromium`: run `apt-get update && apt-get install -y chromium` as root ' +
  '(`node bin/servers.js chromium install` does it), or set SLUICE_CHROMIUM_BIN to a Chromium binary.';

export function chromiumPath(): string {
  return process.env.SLUICE_CHROMIUM_BIN || DEFAULT_BIN;
}

/** The Chromium binary, or a MissingToolError that says how to install it. */
export function requireChromium(): string {
  const bin = chromiumPath();
  if (!existsSync(bin)) throw new MissingToolError(`Chromium was not found at ${bin}. ${HINT}`);
  return bin;
}

export interface ChromiumInstall {
  binary: string;
  installed: boolean;
  ms: number;
}

export async function installChromium(options: { log?: (message: string) => void } = {}): Promise<ChromiumInstall> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const bin = chromiumPath();
  if (existsSync(bin)) return { binary: bin, installed: false, ms: Date.now() - started };
  if (process.env.SLUICE_CHROMIUM_BIN) throw new MissingToolError(`SLUICE_CHROMIUM_BIN: ${bin} does not exist. ${HINT}`);
  const apt = await runCommand('sh', ['-c', 'command -v apt-get']).catch(() => undefined);
  if (apt?.code !== 0) throw new MissingToolError(`apt-get is not available, so Chromium cannot be installed from Debian's packages. ${HINT}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', CHROMIUM_PACKAGE]]) {
    log(`apt-get ${args.join(' ')}`);
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    const r = await runCommand(cmd, rest, { env, timeoutMs: 900_000 });
    if (r.code !== 0) throw new MissingToolError(`\`apt-get ${args.join(' ')}\` failed:\n${tailLines(r.stderr || r.stdout, 10)}\n${HINT}`);
  }
  return { binary: requireChromium(), installed: true, ms: Date.now() - started };
}

/**
 * Options for playwright-core's `chromium.launchPersistentContext(userDataDir, options)`
 * (playwright passes the fresh `--user-data-dir` itself; it refuses it in `args`).
 */
export function chromiumLaunchOptions(): { executablePath: string; headless: boolean; args: string[] } {
  return {
    executablePath: requireChromium(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  };
}
