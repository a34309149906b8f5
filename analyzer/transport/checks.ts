/**
 * The ETSI TR 101 290 checks this checker makes, their priority and section, and the limits
 * the report gives them. Names are the report's own, in lower case.
 */

export type CheckName =
  | 'ts_sync_loss'
  | 'sync_byte_error'
  | 'pat_error'
  | 'continuity_count_error'
  | 'pmt_error'
  | 'pid_error'
  | 'transport_error'
  | 'crc_error'
  | 'pcr_repetition_error'
  | 'pcr_discontinuity_indicator_error'
  | 'pcr_accuracy_error'
  | 'pts_error'
  | 'cat_error';

export interface CheckSpec {
  priority: 1 | 2;
  /** TR 101 290 §5.2 indicator number. */
  indicator: string;
}

export const CHECKS: Readonly<Record<CheckName, CheckSpec>> = {
  ts_sync_loss: { priority: 1, indicator: '1.1' },
  sync_byte_error: { priority: 1, indicator: '1.2' },
  pat_error: { priority: 1, indicator: '1.3.a' },
  continuity_count_error: { priority: 1, indicator: '1.4' },
  pmt_error: { priority: 1, indicator: '1.5.a' },
  pid_error: { priority: 1, indicator: '1.6' },
  transport_error: { priority: 2, indicator: '2.1' },
  crc_error: { priority: 2, indicator: '2.2' },
  pcr_repetition_error: { priority: 2, indicator: '2.3.a' },
  pcr_discontinuity_indicator_error: { priority: 2, indicator: '2.3.b' },
  pcr_accuracy_error: { priority: 2, indicator: '2.4' },
  pts_error: { priority: 2, indicator: '2.5' },
  cat_error: { priority: 2, indicator: '2.6' },
};

export const CHECK_NAMES = Object.keys(CHECKS) as CheckName[];

/** TR 101 290 §5.2.1 1.3.a: sections with table_id 0x00 at least every 0.5 s on PID 0x0000. */
export const PAT_PERIOD_SECONDS = 0.5;
/** TR 101 290 §5.2.1 1.5.a: sections with table_id 0x02 at least every 0.5 s on each PMT PID. */
export const PMT_PERIOD_SECONDS = 0.5;
/**
 * TR 101 290 §5.2.1 1.6: "referred PID does not occur for a user specified period". The report
 * leaves the period to the user; 5 s is longer than any legitimate gap of audio or video
 * (a GOP, a still picture's PTS period) while still catching a dead elementary stream quickly.
 */
export const PID_ERROR_PERIOD_SECONDS = 5;
/**
 * A PID that carries only tables (PAT, CAT, PMT, DVB SI) comes at its tables' own pace, not
 * continuously: DVB SI may be 30 s apart (TDT/TOT, ETSI TS 101 211), and an HLS segment carries
 * its PAT and PMT once, at its start (RFC 8216 §3.2), so 6 s segments have them 6 s apart. Such a
 * PID counts as gone only after this long (or the PID period, if longer); a PAT or PMT that
 * comes late is the PAT and PMT checks' to report (1.3, 1.5).
 */
export const TABLE_PID_GONE_SECONDS = 30;
/** TR 101 290 §5.2.2 2.3.a: PCRs at least every 40 ms (ISO/IEC 13818-1 §2.7.2 requires 0.1 s; DVB 40 ms). */
export const PCR_REPETITION_SECONDS = 0.04;
/** TR 101 290 §5.2.2 2.3.b: consecutive PCRs differ by 0..100 ms unless discontinuity_indicator is set. */
export const PCR_DISCONTINUITY_SECONDS = 0.1;
/** TR 101 290 §5.2.2 2.4: PCR accuracy within +/- 500 ns (ISO/IEC 13818-1 §2.4.2.2). */
export const PCR_ACCURACY_NS = 500;
/** TR 101 290 §5.2.2 2.5: a PTS at least every 700 ms on each PID that carries them. */
export const PTS_PERIOD_SECONDS = 0.7;
