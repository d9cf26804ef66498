/**
 * Test helpers for the state layer: throwaway state dirs and a way to run a
 * TypeScript fixture in a separate Node process (a real process boundary is
 * the only honest way to test crashes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function tempStateDir(prefix = 'sluice-state-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `node --import tsx test/state/fixtures/<name>` with JSON args. */
export function spawnFixture(name: string, args: unknown): ChildProcess {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
  });
}

/** Resolves with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Collects a child's stdout lines and lets a test wait for one that matches. */
export function lines(child: ChildProcess): { all: string[]; waitFor(pred: (l: string) => boolean, timeoutMs?: number): Promise<string> } {
  const all: string[] = [];
  const waiters: Array<{ pred: (l: string) => boolean; resolve(l: string): void }> = [];
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      all.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].pred(line)) waiters.splice(i, 1)[0].resolve(line);
      }
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr += c));
  return {
    all,
    waitFor(pred, timeoutMs = 30_000) {
      const found = all.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for child output; stderr: ${stderr}`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        child.once('exit', () => setTimeout(() => reject(new Error(`child exited; stderr: ${stderr}`)), 50));
      });
    },
  };
}
