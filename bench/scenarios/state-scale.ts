/** State at scale (issue 8, item 4): being written; see the next commit. */
import type { Scenario } from '../scenario.ts';

export const stateScaleScenario: Scenario = {
  name: 'state-scale',
  description: '10M live join keys in one process (not implemented yet)',
  defaults: {},
  run: () => Promise.reject(new Error('state-scale: not implemented yet')),
};
