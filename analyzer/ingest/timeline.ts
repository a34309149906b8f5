/**
 * One continuous timeline for a stream: seconds since the first decoded frame. While media
 * flows it follows media time; across a gap (a reconnect, a new ffmpeg session whose clock
 * restarts at zero, a timestamp jump or wrap) it follows wall-clock time, so it never jumps
 * back and never leaps ahead by a timestamp glitch.
 */

/**
 * A step back of the anchoring stream larger than this is a discontinuity (concatenated or
 * restarted streams); smaller ones are reordering jitter. Seconds.
 */
const MAX_BACK_STEP = 0.5;

/** Seconds media may run ahead of wall time before the excess stops counting. */
export const MAX_BURST_CREDIT = 10;

export type WallClock = () => number; // milliseconds since the epoch

export interface TimelineOptions {
  live: boolean;
  /** A timestamp step forward larger than this is a discontinuity, seconds. */
  maxStep: number;
  /**
   * Live only: when wall time runs ahead of media time by more than this since the segment
   * was anchored, media stopped for a while even if the timestamps do not show it (ffmpeg
   * smooths some discontinuities away): the timeline follows the wall clock. Seconds.
   */
  maxDrift?: number;
}

export class Timeline {
  private offset: number | null = null; // timeline = pts + offset within a segment
  private lastPts: number | null = null;
  private lastT = 0;
  private lastWall: number;
  private readonly startWall: number;
  private started = false;
  // Live drift reference: a wall time and the media time that arrived with it.
  private refWall = 0;
  private refPts = 0;

  constructor(
    private readonly clock: WallClock,
    private readonly options: TimelineOptions,
  ) {
    this.startWall = clock();
    this.lastWall = this.startWall;
  }

  /** The next timestamp opens a new segment (a new decode session with its own clock). */
  newSegment(): void {
    this.offset = null;
    this.lastPts = null;
  }

  /**
   * Map a media timestamp (seconds, the session's clock) onto the timeline. `step` is the
   * nominal duration of one frame or block of this stream, used across file discontinuities.
   * `anchors` is false for a stream that must not open a segment (audio beside video).
   */
  map(pts: number, step: number, anchors = true): number {
    const wall = this.clock();
    // Only the anchoring stream (video when there is one: "since the first decoded frame")
    // opens a segment and judges discontinuities; audio rides on its offset, so audio running
    // ahead of or behind video (A/V offset, interleaving) never re-anchors the timeline.
    if (this.offset === null && !anchors) return this.options.live ? this.now() : this.lastT;
    // Audio whose clock is more than a discontinuity away from the anchoring stream's is on a
    // clock the anchor has not reached yet (both jumped, audio first) or jumped on its own;
    // its time is unknown, so it stays where media is now instead of leaping with its stamp.
    if (!anchors && this.lastPts !== null && Math.abs(pts - this.lastPts) > this.options.maxStep) {
      return this.options.live ? this.now() : this.lastT;
    }
    if (this.offset === null) {
      this.offset = this.started ? this.resumeAt(wall, step) - pts : -pts;
      this.started = true;
      this.setReference(wall, pts);
    } else if (anchors) {
      this.checkContinuity(pts, step, wall);
    }
    const t = Math.max(0, pts + this.offset);
    if (anchors) this.lastPts = pts;
    if (t >= this.lastT) {
      this.lastT = t;
      this.lastWall = wall;
    }
    return t;
  }

  private checkContinuity(pts: number, step: number, wall: number): void {
    if (this.lastPts !== null && (pts < this.lastPts - MAX_BACK_STEP || pts > this.lastPts + this.options.maxStep)) {
      this.offset = this.resumeAt(wall, step) - pts;
      this.setReference(wall, pts);
      return;
    }
    if (!this.options.live) return;
    const drift = (wall - this.refWall) / 1000 - (pts - this.refPts);
    if (drift < -MAX_BURST_CREDIT) {
      // Media arrives in bursts ahead of real time (HLS segments, buffered protocols); the
      // credit a burst gives is kept (so the pause after it is no outage) but bounded.
      this.setReference(wall, pts - MAX_BURST_CREDIT);
    } else if (drift > (this.options.maxDrift ?? 1.5)) {
      this.offset = this.resumeAt(wall, step) - pts;
      this.setReference(wall, pts);
    }
  }

  /** Where `pts` of the current segment falls on the timeline, without moving it. */
  peek(pts: number): number {
    return this.offset === null ? this.lastT : Math.max(0, pts + this.offset);
  }

  /** Timeline now: the last media time plus, for live sources, the wall time since. */
  now(): number {
    if (!this.options.live) return this.lastT;
    return this.lastT + Math.max(0, this.clock() - this.lastWall) / 1000;
  }

  /** Seconds of wall-clock time since media last arrived. */
  sinceMedia(): number {
    return Math.max(0, this.clock() - this.lastWall) / 1000;
  }

  /** ISO 8601 wall-clock time of timeline second `t`. */
  wallclock(t: number): string {
    const ms = this.options.live ? this.lastWall - (this.lastT - t) * 1000 : this.startWall + t * 1000;
    return new Date(ms).toISOString();
  }

  private setReference(wall: number, pts: number): void {
    this.refWall = wall;
    this.refPts = pts;
  }

  private resumeAt(wall: number, step: number): number {
    // Live: continue by the wall time that passed; a file has no wall time, so one step.
    return this.options.live ? this.lastT + Math.max(step, (wall - this.lastWall) / 1000) : this.lastT + step;
  }
}

/**
 * Until when the media received so far would keep a player busy, had it played each frame or
 * block in real time from its arrival on: media that came in a burst (a whole HLS segment
 * decoded at once) pays for the pause after it, so that pause is no outage, and media that
 * stops is missed once what came is used up, as a viewer misses it. ffmpeg's -re spreads a
 * segment over real time only while its timestamps run on: after a step back (an
 * EXT-X-DISCONTINUITY that restarts them, with -copyts) it reads at full speed, and every 6 s
 * segment came as a burst followed by a 5 s pause. The credit is bounded by MAX_BURST_CREDIT,
 * per stream kind (audio and video cover the same time: the later one counts).
 */
export class MediaCredit {
  private readonly until = new Map<'video' | 'audio', number>();

  /** `seconds` of one kind of media arrived at wall time `wallMs`. */
  arrived(kind: 'video' | 'audio', seconds: number, wallMs: number): void {
    const from = Math.max(this.until.get(kind) ?? wallMs, wallMs);
    this.until.set(kind, Math.min(from + Math.max(0, seconds) * 1000, wallMs + MAX_BURST_CREDIT * 1000));
  }

  /** Seconds since the media received ran out at `wallMs` (0 while some is left); null before any came. */
  secondsWithout(wallMs: number): number | null {
    if (this.until.size === 0) return null;
    return Math.max(0, wallMs - Math.max(...this.until.values())) / 1000;
  }
}
