/**
 * The generator's strings. 'reference' builds each string one character at a
 * time from its own draws, as the reference's StringsGenerator does
 * (nextString: a draw for space-or-letter and one for the letter per
 * character, then trim; nextExactString: six letters per 31-bit draw; credit
 * cards from four 4-digit draws). 'pool' (labelled: cheaper than the
 * reference, kept only to compare with old figures) slices fixed random
 * pools instead. `useStrings` picks one before an event draws.
 */
import type { NexmarkConfig } from './generator-config.ts';
import { next32, nextInt, withState } from './generator-random.ts';

// ---- String pools, built once from a fixed seed.

const POOL_SIZE = 1 << 16;

function buildPool(spaces: boolean): string {
  return withState(spaces ? 0x5eed1 : 0x5eed2, () => {
    const chars = new Array<string>(POOL_SIZE);
    for (let i = 0; i < POOL_SIZE; i++) chars[i] = spaces && nextInt(13) === 0 ? ' ' : String.fromCharCode(97 + nextInt(26));
    return chars.join('');
  });
}

/** Lowercase letters with a space about 1 in 13, like the reference's nextString. */
const WORDS = buildPool(true);
/** Lowercase letters only, like nextExactString. */
const LETTERS = buildPool(false);
/** "dddd dddd dddd ..." so a 19-character slice at a multiple of 5 is a credit card number. */
const DIGITS = withState(0x5eed3, () => {
  const groups: string[] = [];
  for (let i = 0; i < 4096; i++) groups.push(String(nextInt(10000)).padStart(4, '0'));
  return groups.join(' ');
});

// ---- Strings as the reference builds them: one draw (or two) per character.

/** Reused for every string: the characters are drawn into it, then turned into one string. */
const CHARS = new Uint16Array(1024);

function charsToString(len: number): string {
  // Chunks keep the argument count of String.fromCharCode small.
  let s = '';
  for (let at = 0; at < len; at += 256) s += String.fromCharCode.apply(null, CHARS.subarray(at, Math.min(len, at + 256)) as unknown as number[]);
  return s;
}

/** The reference's nextString: 3 + nextInt(maxLength - 3) characters, each a space 1 time in 13, else a letter; trimmed. */
export function refString(maxLength: number): string {
  const len = 3 + nextInt(maxLength - 3);
  for (let i = 0; i < len; i++) CHARS[i] = nextInt(13) === 0 ? 32 : 97 + nextInt(26);
  return charsToString(len).trim();
}

/** The reference's nextExactString: six letters per 31-bit draw. */
function refExactString(len: number): string {
  let rnd = 0;
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (n === 0) {
      rnd = next32() >>> 1;
      n = 6;
    }
    CHARS[i] = 97 + (rnd % 26);
    rnd = Math.floor(rnd / 26);
    n--;
  }
  return charsToString(len);
}

function refCreditCard(): string {
  return `${pad4(nextInt(10000))} ${pad4(nextInt(10000))} ${pad4(nextInt(10000))} ${pad4(nextInt(10000))}`;
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : n >= 100 ? `0${n}` : n >= 10 ? `00${n}` : `000${n}`;
}

// ---- Strings sliced from the pools (the labelled 'pool' option).

function poolString(maxLength: number): string {
  const len = 3 + nextInt(maxLength - 3);
  const at = nextInt(POOL_SIZE - len);
  return WORDS.substring(at, at + len);
}

function poolExactString(len: number): string {
  const at = nextInt(POOL_SIZE - len);
  return LETTERS.substring(at, at + len);
}

function poolCreditCard(): string {
  const at = nextInt(4096 - 4) * 5;
  return DIGITS.substring(at, at + 19);
}

/** Module state, so the choice costs one test per string and no allocation. */
let pool = false;

/** Selects the string functions of a generator before it draws. */
export function useStrings(kind: NexmarkConfig['strings']): void {
  pool = kind === 'pool';
}

export function nextString(maxLength: number): string {
  return pool ? poolString(maxLength) : refString(maxLength);
}

export function nextExactString(len: number): string {
  return pool ? poolExactString(len) : refExactString(len);
}

export function nextCreditCard(): string {
  return pool ? poolCreditCard() : refCreditCard();
}

/** The reference's nextExtra: padding so that a record averages the desired size, +-20 %. */
export function nextExtra(currentSize: number, desiredAverageSize: number): string {
  if (currentSize > desiredAverageSize) return '';
  const avg = desiredAverageSize - currentSize;
  const delta = Math.round(avg * 0.2);
  const len = avg - delta + (delta === 0 ? 0 : nextInt(2 * delta));
  return nextExactString(len);
}
