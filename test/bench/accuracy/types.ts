/**
 * The shapes shared by the accuracy benchmark's parts: the corpus generator writes clips and
 * their ground truth, the runners turn a tool's output into events, the scorer compares them,
 * and the report prints the result. One definition here keeps the parts in step.
 */

/** Every type that appears in ground truth or in a tool's events (DESIGN.md's defect table). */
export type DefectType =
  | 'black'
  | 'freeze'
  | 'silence'
  | 'loudness'
  | 'clipping'
  | 'blockiness'
  | 'corruption'
  | 'blur'
  | 'stall'
  | 'decode_error'
  | 'av_sync'
  | 'format_change';

/** One defect on a clip's timeline, in seconds from the clip's first frame; `end` exclusive. */
export interface DefectEvent {
  type: DefectType;
  start: number;
  end: number;
}

/** A stretch in which the live sender is stopped and then restarted (a stall). */
export interface Outage {
  start: number;
  end: number;
}

export interface CorpusClip {
  /** Unique, file-name safe, e.g. `mandel-1080p-h264-ts-black`. */
  name: string;
  /** Absolute path of the media file (for an HLS clip: its .m3u8 playlist). */
  path: string;
  /** `file`: analyzed as a finite input. `live`: sent over UDP on loopback in real time,
   *  with the sender stopped during each outage and restarted after it. */
  mode: 'file' | 'live';
  outages: Outage[];
  container: 'mpegts' | 'mp4' | 'hls';
  videoCodec: string;
  width: number;
  height: number;
  fps: number;
  /** Seconds of media. */
  duration: number;
  /** What the picture and sound are, in a few words, for the report. */
  content: string;
  /** Every injected defect; a clean stretch has none. */
  truth: DefectEvent[];
  /** Real footage only (absent on the synthetic corpus): which split its sources are in. */
  real?: RealFootageInfo;
}

/**
 * Where a real-footage clip comes from. `tuned`: only sources thresholds may be tuned on;
 * `held-out`: only the held-out source (never tuned on; scored on its own). A clean
 * programme has no defects: every event a tool reports on it is a false alarm.
 */
export interface RealFootageInfo {
  split: 'tuned' | 'held-out';
  clean: boolean;
  /** The real-footage source ids (real-footage.ts) it is made of. */
  sources: string[];
  /** Where each shot lies on the clip's timeline (seconds; a fade overlaps two), to tell what a detection saw. */
  shots?: { source: string; start: number; end: number; join: 'first' | 'cut' | 'fade' }[];
}

/** What scoring needs to know of a tool's result on one clip. */
export interface ToolRun {
  tool: 'streamqc' | 'ffmpeg';
  clip: string;
  events: DefectEvent[];
  /** Tool wall seconds and CPU seconds for the clip (informative). */
  wallSeconds: number;
  cpuSeconds: number;
}

/** Scores of one tool on one defect type over the whole corpus. */
export interface TypeScore {
  type: DefectType;
  truthEvents: number;
  detectedEvents: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
  /** Onset error of matched events (detected start - truth start), seconds. */
  onsetErrorMean: number;
  onsetErrorMedian: number;
  onsetErrorP95: number;
  onsetErrorMaxAbs: number;
}

/** Per tool, per type that tool detects (a type a tool cannot detect is absent). */
export interface ToolScores {
  streamqc: TypeScore[];
  ffmpeg: TypeScore[];
}

/** Events one tool reported on one type over clean programmes: each one a false alarm. */
export interface FalseAlarmRate {
  type: DefectType;
  events: number;
  perHour: number;
}

export interface FalseAlarms {
  /** Seconds of clean content the rates are over. */
  cleanSeconds: number;
  clips: number;
  streamqc: FalseAlarmRate[];
  ffmpeg: FalseAlarmRate[];
}

/** Scores on real footage, per split (real-corpus.ts). */
export interface RealFootageScores {
  /** Defects injected into tuned sources. */
  tuned: ToolScores;
  /** Defects injected into the held-out source. */
  heldOut: ToolScores;
  /** Clean programmes: false alarms per hour, per split. */
  falseAlarms: { tuned: FalseAlarms; heldOut: FalseAlarms };
}

export interface AccuracyResult {
  clips: CorpusClip[];
  runs: ToolRun[];
  /** Which corpora ran (absent in results older than the real-footage corpus: synthetic only). */
  parts?: { synthetic: boolean; real: boolean };
  /**
   * Which run each corpus's clips and tool runs come from (`streamqc <version>, commit <sha>,
   * <ISO time>`), when recorded: a result may combine a run of one corpus with an earlier run
   * of the other (accuracy.ts, --keep and --merge).
   */
  measured?: { synthetic?: string; real?: string };
  /** The synthetic corpus's scores. */
  scores: ToolScores;
  /** Real footage's scores, when it ran. */
  real?: RealFootageScores;
  /** Matching tolerance per type: max |onset error| in seconds, and why. */
  tolerances: Record<DefectType, { onsetSeconds: number; why: string }>;
}
