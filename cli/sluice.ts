/**
 * The `sluice` command as shipped: the engine's generic runner
 * (engine/cli/main.ts) with the built-in jobs and the `produce` command.
 * This is the composition root, the one place that imports both engine/ and
 * jobs/; bin/sluice.js calls it.
 */
import { main, type CliIo } from '../engine/cli/main.ts';
import { builtinJobs } from '../jobs/registry.ts';

export async function sluice(argv: string[], io?: CliIo): Promise<number> {
  return main(argv, io, {
    jobs: builtinJobs,
    commands: {
      dev: {
        usage: 'sluice dev up|status|down [kafka] [cassandra] [mongo] [bigquery] [postgres] [prometheus]   servers to run jobs on, in the background',
        run: async (args, cio) => (await import('../engine/dev/dev-command.ts')).devCommand(args, cio),
      },
      produce: {
        usage: 'sluice produce orders-payments [options]   write test orders and payments to Kafka (--help for options)',
        run: async (args, cio) => (await import('./produce.ts')).produceCommand(args, cio),
      },
    },
  });
}
