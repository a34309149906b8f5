/**
 * Shot cuts: the frame where one shot ends and another begins. Detectors that judge a frame
 * against what the stream usually looks like (blur's detail baseline) must start over at a
 * cut: a soft, dark scene after a detailed city shot is another picture, not a loss of focus.
 *
 * The signal is the coarse picture: the means of a CELLS_X x CELLS_Y grid of cells, and its
 * mean absolute change from the previous frame (0..255). A loss of focus, coding noise or
 * grain leave the cell means as they were (a Gaussian blur keeps a cell's mean); a cut
 * replaces them. Motion moves them too, so a cut is a spike: a change of at least
 * MIN_CUT_LEVELS that is also CUT_SPIKE times the largest of the last RECENT_CHANGES changes.
 * Measured on the real clips (analysis resolution): cuts change the coarse picture by 27 to 90
 * levels, after changes of at most 2.2; a sigma 6 blur setting in changes it by 0.5 to 5.2;
 * a shaky handheld bird moves it by up to 38 but never 3 times its neighbours'. Frames that
 * repeat the one before (a 2 fps webcam sent at 15 fps) are no reference for the spike: the
 * real changes between them are.
 *
 * Measured on a sparse grid (every `step`-th pixel of every `step`-th row), like drift
 * (stillness.ts): independent of the feature backend, so both see the same cuts.
 */
const CELLS_X = 16;
const CELLS_Y = 9;
/** Smallest change of the coarse picture (mean levels) that can be a cut. */
export const MIN_CUT_LEVELS = 10;
/** How many times the recent changes a cut's change must be. */
export const CUT_SPIKE = 3;
/** How many previous changes of the picture the spike is judged against. */
const RECENT_CHANGES = 5;
/** A coarse change under this (levels) repeats the previous frame. */
const REPEAT_LEVELS = 0.1;

export class ShotCutMeter {
  private readonly cellOf: Uint16Array;
  private readonly samplesIn: Float64Array;
  private readonly sums: Float64Array;
  private coarse: Float64Array;
  private previous: Float64Array;
  private hasPrevious = false;
  private readonly recent: number[] = [];

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly step = 4,
  ) {
    const cells = CELLS_X * CELLS_Y;
    this.sums = new Float64Array(cells);
    this.coarse = new Float64Array(cells);
    this.previous = new Float64Array(cells);
    this.samplesIn = new Float64Array(cells);
    // Which cell each grid sample falls in, computed once for the stream's geometry.
    this.cellOf = new Uint16Array(Math.ceil(width / step) * Math.ceil(height / step));
    let k = 0;
    for (let y = 0; y < height; y += step) {
      const cy = Math.min(CELLS_Y - 1, Math.floor((y * CELLS_Y) / height));
      for (let x = 0; x < width; x += step, k++) {
        const cell = cy * CELLS_X + Math.min(CELLS_X - 1, Math.floor((x * CELLS_X) / width));
        this.cellOf[k] = cell;
        this.samplesIn[cell] = (this.samplesIn[cell] ?? 0) + 1;
      }
    }
  }

  /** True when `luma` (width x height, row-major) starts a new shot; false on the first frame. */
  measure(luma: Uint8Array): boolean {
    const change = this.coarseChange(luma);
    if (Number.isNaN(change) || change < REPEAT_LEVELS) return false;
    const recentMax = Math.max(0, ...this.recent);
    this.recent.push(change);
    if (this.recent.length > RECENT_CHANGES) this.recent.shift();
    return change >= MIN_CUT_LEVELS && change >= CUT_SPIKE * recentMax;
  }

  /** Forget the previous frame (a new segment or a new format). */
  reset(): void {
    this.hasPrevious = false;
    this.recent.length = 0;
  }

  /** Mean absolute change of the cell means from the previous frame; NaN on the first. */
  private coarseChange(luma: Uint8Array): number {
    const { width, height, step, sums, cellOf, samplesIn } = this;
    sums.fill(0);
    let k = 0;
    for (let y = 0; y < height; y += step) {
      const row = y * width;
      for (let x = 0; x < width; x += step, k++) {
        const cell = cellOf[k] ?? 0;
        sums[cell] = (sums[cell] ?? 0) + (luma[row + x] ?? 0);
      }
    }
    [this.previous, this.coarse] = [this.coarse, this.previous];
    let change = 0;
    for (let c = 0; c < sums.length; c++) {
      const mean = (sums[c] ?? 0) / Math.max(1, samplesIn[c] ?? 0);
      this.coarse[c] = mean;
      change += Math.abs(mean - (this.previous[c] ?? 0));
    }
    const had = this.hasPrevious;
    this.hasPrevious = true;
    return had ? change / sums.length : Number.NaN;
  }
}
