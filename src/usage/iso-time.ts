/**
 * `new Date(ms).toISOString()` for the usage records' `time`, without a Date per record: the
 * `YYYY-MM-DDTHH:MM:SS.` prefix is remembered for the current second and only the milliseconds are
 * appended (toISOString costs about 0.5 µs; this about 0.07 µs, on every request with accounting).
 */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

export function isoTimeOf(epochMs: number): string {
  const ms = Math.floor(epochMs);
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    // Years outside 0000–9999 are spelt with a sign and six digits: no prefix to keep.
    if (iso.length !== 24) return new Date(ms).toISOString();
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  // One concatenation of two existing strings, no number formatting: the record queued for the
  // store holds one small string object rather than a tree of four.
  return cachedPrefix + (MILLIS[ms - second * 1000] as string);
}

/** `000Z` … `999Z`. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, milli) => `${String(milli).padStart(3, '0')}Z`);
