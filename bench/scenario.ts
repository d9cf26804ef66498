/** A named benchmark scenario: `npm run bench -- <name> [--option value ...]`. */
import type { ScenarioResult } from './bench-harness.ts';

export type ScenarioOptions = Record<string, string | number | boolean>;

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Options and their defaults; `--name value` on the command line overrides one (coerced to the default's type). */
  readonly defaults: ScenarioOptions;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}
