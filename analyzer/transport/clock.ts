/**
 * The checker's clock: seconds since the first packet. For a live source it is the arrival
 * time the caller stamps on each chunk; for a file, or bytes that came without meaningful
 * arrival times, it is read from the stream itself: the PCR of one reference PID, and between
 * PCRs (or while they are missing) the byte position at the recently measured transport rate.
 */
import { PCR_HZ, PCR_WRAP } from './packet.js';

/**
 * PCR steps up to this long are elapsed time (the PCR discontinuity limit, TR 101 290 2.3.b);
 * a longer one is a gap or a jump, and the byte count tells the time across it.
 */
const MAX_PCR_STEP_SECONDS = 0.1;
/** How many recent PCR intervals the rate is averaged over (about a second at ffmpeg's 20 ms PCR period). */
const RATE_WINDOW = 50;

/** PCR b minus PCR a in seconds, across the 2^33 wrap, in (-wrap/2, wrap/2]. */
export function pcrDeltaSeconds(a: number, b: number): number {
  let d = (b - a) % PCR_WRAP;
  if (d > PCR_WRAP / 2) d -= PCR_WRAP;
  if (d <= -PCR_WRAP / 2) d += PCR_WRAP;
  return d / PCR_HZ;
}

export class StreamClock {
  private anchorPosition = 0;
  private anchorTime = 0;
  /** Time of the last PCR, exact (not held back by monotonicity). */
  private pcrTime = 0;
  private lastPcr: number | null = null;
  private lastPcrPosition = 0;
  private readonly intervals: { bytes: number; seconds: number }[] = [];
  private bytesPerSecond: number | null = null;
  private latest = 0;

  /** Timeline seconds of the byte at `position`: never earlier than a time already given. */
  at(position: number): number {
    const extrapolated =
      this.anchorTime + (this.bytesPerSecond ? (position - this.anchorPosition) / this.bytesPerSecond : 0);
    this.latest = Math.max(this.latest, extrapolated);
    return this.latest;
  }

  /** A PCR of the reference PID at byte `position`. */
  onPcr(pcr: number, position: number): void {
    const predicted = this.at(position);
    const step = this.lastPcr === null ? null : pcrDeltaSeconds(this.lastPcr, pcr);
    if (step !== null && step > 0 && step <= MAX_PCR_STEP_SECONDS && position > this.lastPcrPosition) {
      this.measureRate(position, step);
      this.pcrTime += step;
      // Anchored at the PCR's own time, not at an extrapolation that ran ahead of it (at() keeps
      // the clock from going back): a burst above the average rate would otherwise carry its
      // overshoot into every later interval, and a variable-rate file's clock would drift ahead.
      this.anchorTime = this.pcrTime;
    } else {
      // First PCR, a gap or a jump: carry on from where the bytes say we are.
      this.pcrTime = predicted;
      this.anchorTime = predicted;
    }
    this.anchorPosition = position;
    this.lastPcr = pcr;
    this.lastPcrPosition = position;
  }

  private measureRate(position: number, seconds: number): void {
    this.intervals.push({ bytes: position - this.lastPcrPosition, seconds });
    if (this.intervals.length > RATE_WINDOW) this.intervals.shift();
    let bytes = 0;
    let total = 0;
    for (const i of this.intervals) {
      bytes += i.bytes;
      total += i.seconds;
    }
    this.bytesPerSecond = bytes / total;
  }
}
