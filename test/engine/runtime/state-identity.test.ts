/**
 * A state directory with checkpoints but no identity.json (written by a sluice
 * from before identities) is not adopted silently: its positions may have been
 * taken on another input (issue 16, finding 2). The run refuses with exit 2 and
 * names the ways out; --adopt-state records the run's identity and resumes from
 * the checkpoints. An empty or new directory just gets the identity.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkStateIdentity, IDENTITY_FILE, identityOf } from '../../../engine/runtime/state-identity.ts';
import { SluiceError } from '../../../engine/errors.ts';
import { tempDir } from '../../helpers/temp.ts';
import { runSluice } from '../../helpers/sluice-process.ts';

const run = (state: string, out: string, ...extra: string[]) =>
  runSluice(['run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=file', '--set', 'perPartition=200', '--workers', '1',
    '--state-dir', state, '--output-dir', out, '--no-http', '--no-progress', ...extra]);

describe('state identity of a legacy state directory', () => {
  it('an empty or new directory gets the identity of its first run', () => {
    const id = identityOf('j', { events: { kind: 'generator' } as never }, 2);
    const fresh = join(tempDir(), 'new');
    checkStateIdentity(fresh, id);
    expect(JSON.parse(readFileSync(join(fresh, IDENTITY_FILE), 'utf8'))).toEqual(id);
    const empty = tempDir();
    checkStateIdentity(empty, id);
    expect(existsSync(join(empty, IDENTITY_FILE))).toBe(true);
  });

  it('checkpoints without identity.json refuse with exit 2, naming the ways out; --adopt-state records the identity and resumes', async () => {
    const state = tempDir();
    const out = tempDir();
    const first = await run(state, out);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/records in: +800 /);
    // What a sluice from before identities left: checkpoints, no identity.
    rmSync(join(state, IDENTITY_FILE));
    expect(existsSync(join(state, 'data.mdb'))).toBe(true);

    const refused = await run(state, out);
    expect(refused.code, refused.stderr).toBe(2);
    const line = refused.stderr.split('\n').filter(Boolean).at(-1)!;
    expect(line).toMatch(new RegExp(`^sluice: state directory ${state} holds checkpoints but no identity\\.json`));
    expect(line).toContain('this run (job keyed-count, events=generator, 4 partitions)');
    expect(line).toContain('--adopt-state');
    expect(line).toContain('--state-dir');
    expect(line).toContain('`sluice reset keyed-count`');
    expect(existsSync(join(state, IDENTITY_FILE)), 'a refused run records nothing').toBe(false);

    const adopted = await run(state, out, '--adopt-state');
    expect(adopted.code, adopted.stderr).toBe(0);
    // It resumed from the checkpoints: the generator's 800 records were read already.
    expect(adopted.stdout).toMatch(/records in: +0 /);
    expect(JSON.parse(readFileSync(join(state, IDENTITY_FILE), 'utf8'))).toMatchObject({ job: 'keyed-count', sources: { events: 'generator' }, partitions: 4 });

    // From then on it is an ordinary directory with an identity: no flag needed.
    const again = await run(state, out);
    expect(again.code, again.stderr).toBe(0);
  }, 180_000);

  it('the refusal is a CONFIG error (exit 2), thrown before anything is written', () => {
    const dir = tempDir();
    // data.mdb is what a run that opened the state leaves behind.
    const id = identityOf('j', { events: { kind: 'generator' } as never }, 1);
    checkStateIdentity(dir, id);
    rmSync(join(dir, IDENTITY_FILE));
    writeFileSync(join(dir, 'data.mdb'), '');
    expect(() => checkStateIdentity(dir, id)).toThrow(SluiceError);
    expect(existsSync(join(dir, IDENTITY_FILE))).toBe(false);
    checkStateIdentity(dir, id, 'j', true);
    expect(existsSync(join(dir, IDENTITY_FILE))).toBe(true);
  });
});
