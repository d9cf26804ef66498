import { describe, expect, it } from 'vitest';
import { undeliveredEpochs } from '../../../engine/runtime/outbox.ts';
import { CHANGELOG_SINK } from '../../../engine/runtime/changelog.ts';

describe('undeliveredEpochs (redelivery after a restart)', () => {
  it('skips acked epochs, merges chunks of one (epoch, sink), orders epochs, and puts the changelog last', () => {
    const rec = (id: string) => ({ id, key: null, value: id, time: 0 });
    // As LMDB returns them: by key, so "__changelog" sorts before the other sinks.
    const stored = [
      { epoch: 3, sinkId: CHANGELOG_SINK, records: [rec('c3')] },
      { epoch: 3, sinkId: 'out', records: [rec('3-0')] },
      { epoch: 3, sinkId: 'out', records: [rec('3-1')] },
      { epoch: 2, sinkId: 'out', records: [rec('2-0')] },
      { epoch: 5, sinkId: CHANGELOG_SINK, records: [rec('c5')] },
      { epoch: 5, sinkId: '__dlq', records: [rec('d5')] },
      { epoch: 4, sinkId: 'out', records: [rec('4-0')] },
    ];
    const got = undeliveredEpochs(stored, 2).map(([e, entries]) => [e, entries.map((x) => `${x.sinkId}:${x.records.map((r) => r.id).join('+')}`)]);
    expect(got).toEqual([
      [3, ['out:3-0+3-1', `${CHANGELOG_SINK}:c3`]],
      [4, ['out:4-0']],
      [5, ['__dlq:d5', `${CHANGELOG_SINK}:c5`]],
    ]);
  });
});
