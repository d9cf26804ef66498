/** Number formatting for the rendered tables. */

/** Integers with thousands separators, other numbers to 3 significant digits; table-safe strings. */
export function fmt(x: unknown): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) return String(x);
    if (Number.isInteger(x)) return x.toLocaleString('en-US');
    return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(+x.toPrecision(3));
  }
  if (typeof x === 'object') return JSON.stringify(x);
  return String(x).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
