/** Seeded pseudo-random bytes: the same seed gives the same bytes on every machine and run. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    // Numerical Recipes' LCG; the top byte is the best-mixed one.
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}
