/**
 * The generator's PRNG: mulberry32, reseeded per event from a hash of its
 * position, so an event's draws depend only on where it is and a restart
 * regenerates exactly what a crash lost. The state is module state, so no
 * draw allocates.
 */

let rs = 0;

/** The PRNG state an event at (partition, k) starts from. */
export function seedState(partition: number, k: number): number {
  let x = (Math.imul(partition + 1, 0x9e3779b1) ^ (k | 0) ^ Math.imul((k / 4294967296) | 0, 0x85ebca6b)) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return x ^ (x >>> 16);
}

export function seed(partition: number, k: number): void {
  rs = seedState(partition, k);
}

/** Runs `draw` from the given state and puts the current one back: side draws (pools, cached urls) leave the event's sequence alone. */
export function withState<T>(state: number, draw: () => T): T {
  const saved = rs;
  rs = state;
  try {
    return draw();
  } finally {
    rs = saved;
  }
}

export function next32(): number {
  rs = (rs + 0x6d2b79f5) | 0;
  let t = rs;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** Uniform in [0, n), n <= 2^32. */
export function nextInt(n: number): number {
  return Math.floor((next32() / 4294967296) * n);
}

export function nextDouble(): number {
  return next32() / 4294967296;
}
