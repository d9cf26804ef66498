/**
 * Not a Nexmark query: every generated event straight into the sink. It
 * measures the generator and the runtime's floor, so the queries' figures
 * can be read as "generation + query".
 */
import { defineJob } from '../../api/index.ts';
import { nexmarkChoices, nexmarkDefaults, nexmarkSinks, nexmarkSources } from './common.ts';

export default defineJob({
  name: 'nexmark-gen',
  description: 'Nexmark events straight into the sink (generator and runtime floor)',
  settings: nexmarkDefaults,
  choices: nexmarkChoices,
  sources: nexmarkSources,
  sinks: nexmarkSinks,
  pipeline(b) {
    b.source('events').to('out');
  },
});
