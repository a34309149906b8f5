/**
 * Drift: how far a frame has moved from a held reference frame, the way ffmpeg's freezedetect
 * judges stillness. The frame-to-frame difference alone cannot tell slow motion (a slow pan,
 * a creeping ticker: every step under the noise floor) from a frozen picture; the difference
 * to a reference accumulates the steps. The reference is re-anchored at every keyframe (an
 * encoder's intra refresh re-codes a frozen picture, which is no motion) and whenever the
 * frame moved more than `reanchorAbove` from it (the picture has moved on).
 *
 * Measured on a sparse grid (every `step`-th pixel of every `step`-th row of the analysis
 * plane): drift only has to exceed a noise floor, and the grid keeps it about 1/16 of a
 * frame-difference pass. Independent of the feature backend, so both see the same drift.
 */
export class StillnessMeter {
  private readonly reference: Uint8Array;
  private hasReference = false;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly reanchorAbove: number,
    private readonly step = 4,
  ) {
    this.reference = new Uint8Array(Math.ceil(width / step) * Math.ceil(height / step));
  }

  /**
   * Drift of `luma` (width x height, row-major) from the reference, 0..255. NaN when there is
   * no reference, and on a keyframe: how much an intra refresh re-coded the picture says
   * nothing of motion (the frame-to-frame difference, with its hysteresis, judges that frame).
   */
  measure(luma: Uint8Array, keyframe: boolean): number {
    if (keyframe || !this.hasReference) {
      this.anchor(luma);
      return Number.NaN;
    }
    const { width, height, step, reference } = this;
    let sum = 0;
    let k = 0;
    for (let y = 0; y < height; y += step) {
      const row = y * width;
      for (let x = 0; x < width; x += step, k++) sum += Math.abs((luma[row + x] ?? 0) - (reference[k] ?? 0));
    }
    const drift = sum / k;
    if (drift > this.reanchorAbove) this.anchor(luma);
    return drift;
  }

  /** Forget the reference (a new segment or a new format). */
  reset(): void {
    this.hasReference = false;
  }

  private anchor(luma: Uint8Array): void {
    const { width, height, step, reference } = this;
    let k = 0;
    for (let y = 0; y < height; y += step) {
      const row = y * width;
      for (let x = 0; x < width; x += step, k++) reference[k] = luma[row + x] ?? 0;
    }
    this.hasReference = true;
  }
}
