/** What counts as a corrupted frame in the labels (concealed against clean decode). */
/** A frame is truly corrupted from this share of corrupted cells (9 cells of a 320x180 plane's 880). */
export const TRUE_FRAME_AREA = 0.01;
/** A run of such frames is a true event from this long (the first model's detector minDuration). */
export const TRUE_RUN_SECONDS = 0.4;

/** Share of cells at or above `threshold`. */
export function areaOver(values: Float32Array, threshold: number): number {
  let n = 0;
  for (const v of values) if (v >= threshold) n++;
  return values.length === 0 ? 0 : n / values.length;
}
