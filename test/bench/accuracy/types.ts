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

export interface AccuracyResult {
  clips: CorpusClip[];
  runs: ToolRun[];
  /** Per tool, per type that tool detects (a type a tool cannot detect is absent). */
  scores: { streamqc: TypeScore[]; ffmpeg: TypeScore[] };
  /** Matching tolerance per type: max |onset error| in seconds, and why. */
  tolerances: Record<DefectType, { onsetSeconds: number; why: string }>;
}
