/**
 * Not a Nexmark query: every generated event straight into the sink. It
 * measures the generator and the runtime's floor, so the queries' figures
 * can be read as "generation + query".
 */
import { nexmarkJob } from './common.ts';

export default nexmarkJob({
  name: 'nexmark-gen',
  description: 'Nexmark events straight into the sink (generator and runtime floor)',
  pipeline(b) {
    b.source('events').to('out');
  },
});
