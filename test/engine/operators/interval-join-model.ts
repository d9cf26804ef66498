/**
 * Reference model of the interval join (engine/operators/interval-join.ts),
 * written as plainly as possible: no state, no timers, no buffers.
 *
 * Input: the batches in the order they reach the actor. Output: the multiset
 * of rows, as strings:
 *
 *   J:<left id>:<right id>   a joined pair
 *   L:<left id>              a left record that never joined (modes left, full)
 *   R:<right id>             a right record that never joined (mode full)
 *   LATE-L:<id> / LATE-R:<id> a late record
 *   DUP:<id>                 a duplicate left record (uniqueLeft)
 *
 * Only two things depend on arrival order, and the model derives both from
 * the watermark before each batch, computed the way the actor's tracker does
 * (per input: largest time seen minus the out-of-orderness bound; the minimum
 * over inputs; never backwards):
 *   - a record is late when its time is below watermark - grace;
 *   - with uniqueLeft, a left record is a duplicate when an earlier kept left
 *     record of its key is still held (its bound t + upper + grace is not
 *     below the watermark).
 * Everything else is a set function of the kept records: every pair of the
 * same key within the bounds joins; a kept record with no partner is
 * unmatched.
 */
export interface Rec {
  id: string;
  key: string;
  t: number;
}

export interface ModelBatch {
  input: 0 | 1;
  records: Rec[];
}

export interface JoinParams {
  mode: 'inner' | 'left' | 'full';
  lower: number;
  upper: number;
  grace: number;
  uniqueLeft: boolean;
  /** Watermark bound of both inputs. */
  ooo: number;
  /** The join's timerBucketMs (the model has no timers: output must not depend on it). Default 1000. */
  bucket?: number;
}

export function modelJoin(batches: readonly ModelBatch[], p: JoinParams): string[] {
  const out: string[] = [];
  const lefts: Rec[] = [];
  const rights: Rec[] = [];
  const maxSeen = [-Infinity, -Infinity];
  let wm = -Infinity;
  for (const b of batches) {
    for (const r of b.records) {
      if (r.t < wm - p.grace) {
        out.push(`${b.input === 0 ? 'LATE-L' : 'LATE-R'}:${r.id}`);
        continue;
      }
      if (b.input === 1) {
        rights.push(r);
        continue;
      }
      if (p.uniqueLeft && lefts.some((l) => l.key === r.key && l.t + p.upper + p.grace >= wm)) {
        out.push(`DUP:${r.id}`);
        continue;
      }
      lefts.push(r);
    }
    if (b.records.length > 0) {
      maxSeen[b.input] = Math.max(maxSeen[b.input], ...b.records.map((r) => r.t));
      wm = Math.max(wm, Math.min(maxSeen[0], maxSeen[1]) - p.ooo);
    }
  }
  const joinedRight = new Set<string>();
  for (const l of lefts) {
    let matched = false;
    for (const r of rights) {
      if (r.key === l.key && l.t + p.lower <= r.t && r.t <= l.t + p.upper) {
        out.push(`J:${l.id}:${r.id}`);
        matched = true;
        joinedRight.add(r.id);
      }
    }
    if (!matched && p.mode !== 'inner') out.push(`L:${l.id}`);
  }
  if (p.mode === 'full') for (const r of rights) if (!joinedRight.has(r.id)) out.push(`R:${r.id}`);
  return out.sort();
}
