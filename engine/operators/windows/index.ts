/**
 * Event-time windows for any job: tumbling, hopping (with panes) and session
 * windows over keyed streams, with allowed lateness, a side output for late
 * records, and on-close, late-update and early emission. See
 * window-types.ts for the time model.
 *
 *   b.source<Edit>('edits')
 *     .keyBy((e) => e.title, 'by-title')
 *     .process(tumblingWindow({ sizeMs: 60_000, aggregate: aggregate({ edits: count() }) }), 'per-minute')
 */
export { tumblingWindow, hoppingWindow, PaneWindowOperator, type PaneWindowSpec } from './pane-windows.ts';
export { sessionWindow, SessionWindowOperator } from './session-windows.ts';
export { aggregate, count, countDistinct, max, min, sum, timeRange, type Aggregator, type DistinctAcc } from './aggregators.ts';
export type { EmissionKind, WindowOptions, WindowResult } from './window-types.ts';
