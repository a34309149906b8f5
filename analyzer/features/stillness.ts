/**
 * Drift: how far a frame has moved from a held reference frame, the way ffmpeg's freezedetect
 * judges stillness. The frame-to-frame difference alone cannot tell slow motion (a slow pan,
 * a creeping ticker: every step under the noise floor) from a frozen picture; the difference
 * to a reference accumulates the steps. The reference is re-anchored at every keyframe (an
 * encoder's intra refresh re-codes a frozen picture, which is no motion) and whenever the
 * frame moved more than `reanchorAbove` from it (the picture has moved on).
 *
 * Encoder refinement is not motion either. An encoder keeps refining a frozen detailed picture
 * for a GOP: the first frozen frame carries the coding error of a frame that followed motion,
 * and each later frame codes a little more of it away, so the picture converges on the frozen
 * source and drifts from the first frame by more than the floor (city-night frozen, x264 at
 * 1 Mb/s: 0.35 levels within 0.3 s) while no frame moves more than 0.2. Refinement is coding
 * noise: each pixel moves by a few levels and the errors it removes are as often up as down.
 * Motion is not: an edge that moves sweeps whole levels of contrast across the pixels it
 * passes (1 degree/s rotating bars at 720p move edge pixels by 30 to 100 levels), and a slow
 * fade or a pan of a smooth ramp shifts every pixel the same way. So drift is the larger of
 *   - the mean over the grid of the pixel changes larger than CODING_NOISE_LEVELS (small
 *     changes count as none), and
 *   - the absolute mean signed change (a coherent shift of the whole picture, however small
 *     each pixel's part).
 * Measured: refinement of frozen city-night and vtest-pedestrians (x264 ultrafast crf 23 and
 * veryfast 1 Mb/s) stays under 0.3 of it but for one frame of ultrafast's first refinement
 * (0.16 s after the freeze), while rotating bars pass the floor every 2 or 3 frames as before.
 *
 * Measured on a sparse grid (every `step`-th pixel of every `step`-th row of the analysis
 * plane): drift only has to exceed a noise floor, and the grid keeps it about 1/16 of a
 * frame-difference pass. Independent of the feature backend, so both see the same drift.
 */
/** A pixel change up to this many levels (0..255) may be an encoder's refinement, not motion. */
export const CODING_NOISE_LEVELS = 12;

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
    let moved = 0;
    let signed = 0;
    let k = 0;
    for (let y = 0; y < height; y += step) {
      const row = y * width;
      for (let x = 0; x < width; x += step, k++) {
        const change = (luma[row + x] ?? 0) - (reference[k] ?? 0);
        const size = Math.abs(change);
        signed += change;
        moved += size > CODING_NOISE_LEVELS ? size : 0;
      }
    }
    const drift = Math.max(moved, Math.abs(signed)) / k;
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
