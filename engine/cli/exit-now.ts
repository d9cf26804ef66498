/**
 * Ending the process at once, without the exit path of `process.exit()`.
 *
 * Why: `process.exit()` stops every worker thread and waits for each to tear
 * down, and a worker's teardown closes its LMDB environment (lmdb-js's
 * cleanup hook). The environment is shared by all workers of the process
 * (state/env.ts): a worker cut off inside a write transaction leaves it open,
 * and its teardown then waited on a mutex that another worker held while it
 * waited, in `mdb_txn_begin`, for that transaction's write lock. The process
 * hung until SIGKILL (issue 16, finding 1).
 *
 * `process.execve()` replaces the process image: the kernel ends every thread
 * where it stands, no teardown runs, and the exit code is ours (the image is
 * `sh -c 'exit N'`). Nothing is lost that a crash would not lose: the next start
 * resumes from the last checkpoint, as after a power cut. Without execve
 * (Node < 23.11, Windows) the process SIGKILLs itself, which ends it as surely
 * but reports the signal instead of the code.
 */
import { existsSync } from 'node:fs';

export function exitNow(code: number): never {
  const execve = (process as { execve?: (file: string, args: string[], env?: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve === 'function' && existsSync('/bin/sh')) {
    try {
      execve.call(process, '/bin/sh', ['sh', '-c', `exit ${code}`], {});
    } catch {
      // fall through: the signal below ends it
    }
  }
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: the process was killed');
}
