/**
 * A stream's own typical value of a picture feature, for detectors that judge a frame
 * against the stream rather than against a fixed level (blockiness, blur): content differs
 * too much between streams for one absolute threshold to fit them all.
 *
 * The first `warmupSeconds` of frames seed it with their plain mean (no judgement is made
 * before then); after that it follows an exponential average with time constant
 * `timeConstantSeconds`, slow enough that a defect lasting seconds barely moves it. Callers
 * feed frames they judged good at that rate, and frames they judged defective at a much
 * slower one (or not at all): a defect barely teaches the baseline, yet a lasting change of
 * content (a cut from a detailed scene to a flat studio) becomes the new normal eventually
 * instead of an endless defect.
 */
export class StreamBaseline {
  private seededSeconds = 0;
  private seedSum = 0;
  private value = Number.NaN;

  constructor(private readonly warmupSeconds: number) {}

  /** True once the warm-up is over and frames may be judged against `current`. */
  get ready(): boolean {
    return this.seededSeconds > 0 && this.seededSeconds >= this.warmupSeconds - 1e-9;
  }

  /** The baseline; NaN before the first frame. */
  get current(): number {
    return this.value;
  }

  /**
   * Learn from one frame lasting `duration` seconds with the given time constant (ignored
   * during the warm-up; 0 or Infinity: do not learn from this frame).
   */
  add(sample: number, duration: number, timeConstantSeconds: number): void {
    if (!this.ready) {
      this.seededSeconds += duration;
      this.seedSum += sample * duration;
      this.value = this.seedSum / this.seededSeconds;
      return;
    }
    if (!(timeConstantSeconds > 0) || !Number.isFinite(timeConstantSeconds)) return;
    // Exact per-frame weight for a continuous time constant, so it holds at any frame rate.
    const weight = 1 - Math.exp(-duration / timeConstantSeconds);
    this.value += weight * (sample - this.value);
  }

  /** Start over (the picture changed size or codec, so the old baseline no longer describes it). */
  reset(): void {
    this.seededSeconds = 0;
    this.seedSum = 0;
    this.value = Number.NaN;
  }
}

/** Seconds of judged video over which a change of mean luma starts another scene. */
const SCENE_LUMA_WINDOW = 1.5;

/**
 * Whether a frame starts another scene than the one a baseline was learned on, so that the
 * baseline must start over: a shot cut (features/shot-cut.ts), or a change of the picture's
 * mean luma by more than `lumaChange` levels within SCENE_LUMA_WINDOW seconds. The second catches
 * what the cut meter, which looks for a one-frame spike, does not: a fade or a dissolve into
 * another shot, a light switched on. Measured on the real clips: fades between shots move the
 * mean luma by 20 to 90 levels within a second or two; within a shot it wanders a few levels.
 * The defects judged against such baselines leave the mean luma where it was: a Gaussian blur
 * keeps every region's mean, and concealment or a starved encoder copies or flattens blocks of
 * the same brightness (the damaged cockatoo clip moves it by 5 levels).
 *
 * The change is measured over a short window, not from a slow average: a slow drift within one
 * shot (a zoom or a sunrise, 7 levels a second on ffmpeg's mandelbrot) builds up against a slow
 * average into a "change" that restarts the baseline mid-shot, where it may land right before a
 * real defect and learn it as the scene's normal.
 */
export class SceneWatch {
  /** The judged frames of the last SCENE_LUMA_WINDOW seconds: when (seconds of judged video) and their luma. */
  private readonly recent: { at: number; luma: number }[] = [];
  private elapsed = 0;

  constructor(
    private readonly warmupSeconds: number,
    private readonly lumaChange: number,
  ) {}

  /**
   * True when this frame belongs to another scene: it is a shot cut, or its mean luma is
   * far from the scene's a moment ago (`meanLuma` undefined: a frame the caller does not judge,
   * such as a black one, whose brightness says nothing about the scene).
   */
  changed(cut: boolean | undefined, meanLuma?: number): boolean {
    if (cut === true) return true;
    const reference = this.recent[0];
    if (meanLuma === undefined || reference === undefined || this.elapsed < this.warmupSeconds) return false;
    return Math.abs(meanLuma - reference.luma) > this.lumaChange;
  }

  /** Record one judged frame. */
  add(meanLuma: number, duration: number): void {
    this.elapsed += duration;
    this.recent.push({ at: this.elapsed, luma: meanLuma });
    while (this.recent.length > 1 && (this.recent[0]?.at ?? this.elapsed) < this.elapsed - SCENE_LUMA_WINDOW) {
      this.recent.shift();
    }
  }

  reset(): void {
    this.recent.length = 0;
    this.elapsed = 0;
  }
}
