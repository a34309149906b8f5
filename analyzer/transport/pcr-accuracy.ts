/**
 * PCR accuracy (TR 101 290 §5.2.2 2.4 and the PCR_AC measurement of ITU-T J.133 §4.6): how far
 * each PCR is from the value the previous PCR plus the bytes between them imply at the
 * transport rate. One PCR off by x shows as +x on its own interval and -x on the next, as the
 * report's measurement does. The rate is the average over the intervals so far that were not
 * themselves in error. It applies to constant-rate streams only (a variable-rate stream has no
 * "right" position for a PCR), so it answers only once the recent intervals agree on the rate.
 * It reads byte positions, not arrival times: the delivery network's jitter (PCR_OJ) is not
 * what it measures.
 */
import { pcrDeltaSeconds } from './clock.js';

/** Intervals in a row whose rate must agree before a stream counts as constant-rate. */
const CONSTANT_RATE_INTERVALS = 10;
/** Interval rates within this share of the average count as the same rate. */
const CONSTANT_RATE_TOLERANCE = 0.01;
/** Longer PCR intervals are gaps or jumps, judged by the repetition and discontinuity checks. */
const MAX_INTERVAL_SECONDS = 0.1;

export class PcrAccuracy {
  private last: { pcr: number; position: number } | null = null;
  private bytes = 0;
  private seconds = 0;
  private agreeing = 0;

  /** Forget the reference: a discontinuity, a lost or repeated packet. */
  restart(): void {
    this.last = null;
    this.bytes = 0;
    this.seconds = 0;
    this.agreeing = 0;
  }

  /** The PCR's offset from where its byte position puts it, in ns; null while the rate is unknown or not constant. */
  measure(pcr: number, position: number, limitNs: number): number | null {
    const last = this.last;
    this.last = { pcr, position };
    if (!last) return null;
    const seconds = pcrDeltaSeconds(last.pcr, pcr);
    const bytes = position - last.position;
    if (seconds <= 0 || seconds > MAX_INTERVAL_SECONDS || bytes <= 0) {
      this.restart();
      this.last = { pcr, position };
      return null;
    }
    if (this.seconds === 0) {
      this.bytes = bytes;
      this.seconds = seconds;
      return null;
    }
    const rate = this.bytes / this.seconds;
    const offsetNs = (seconds - bytes / rate) * 1e9;
    const agrees = Math.abs(bytes / seconds / rate - 1) <= CONSTANT_RATE_TOLERANCE;
    this.agreeing = agrees ? this.agreeing + 1 : 0;
    const judged = this.agreeing >= CONSTANT_RATE_INTERVALS;
    // An interval in error does not move the rate it is judged by.
    if (!judged || Math.abs(offsetNs) <= limitNs) {
      this.bytes += bytes;
      this.seconds += seconds;
    }
    return judged ? offsetNs : null;
  }
}
