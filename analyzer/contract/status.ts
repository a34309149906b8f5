/**
 * The analyzer's /status document: its type (what the analyzer writes) and its JSON Schema
 * (what the operator accepts), in one place so that the two cannot drift apart. The operator
 * treats every answer as untrusted (an analyzer parses untrusted media and may be compromised
 * or of another version): what fails the schema is no answer at all.
 *
 * The schema requires only the fields the operator reads, with their types and bounds, and
 * allows unknown extra properties so that a newer analyzer may add fields. Kept free of heavy
 * imports (no pipeline, no onnxruntime): the operator loads it.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { PcmFormat } from '../audio/format.js';
import type { DefectEvent, StreamFormat } from '../detectors/types.js';
import type { LoudnessPeriod } from '../detectors/detector.js';

export interface ReportedEvent extends DefectEvent {
  wallclock: string;
}

/**
 * What the stream carried, not a defect (transport/signals.ts): a PID appearing in the multiplex
 * or disappearing from it, an ad break's cue out or cue in (SCTE-35 in the TS, or an HLS
 * playlist's cue tags). An instant: `end` equals `start`.
 */
export const SIGNAL_EVENT_TYPES = ['pid_appeared', 'pid_disappeared', 'cue_out', 'cue_in'] as const;
export type SignalEventType = (typeof SIGNAL_EVENT_TYPES)[number];

export interface SignalEvent {
  type: SignalEventType;
  start: number;
  end: number;
  wallclock: string;
  detail: Record<string, number | string>;
}

export function isSignalEvent(e: ReportedEvent | SignalEvent): e is SignalEvent {
  return (SIGNAL_EVENT_TYPES as readonly string[]).includes(e.type);
}

export type Phase = 'starting' | 'running' | 'stalled' | 'reconnecting' | 'finished' | 'failed';

export interface AnalyzerStatus {
  /**
   * The MPEG-TS checks (TR 101 290, PIDs, SCTE-35, captions; transport/stage.ts): what they
   * found, or why they do not apply to this source. The operator does not read it.
   */
  transport?: import('../transport/stage.js').TransportStatus;
  stream: string;
  source: string;
  live: boolean;
  phase: Phase;
  startedAt: string;
  timelineSeconds: number;
  mediaFlowing: boolean;
  lastMediaAt: string | null;
  format: StreamFormat;
  bitrate: number | null;
  analysis: {
    width: number;
    height: number;
    backend: string;
    executionProvider: string;
    lagSeconds: number;
    /** The PCM the audio meters measure (`format` keeps the source's own); null: no audio analysed. */
    audio: PcmFormat | null;
  };
  activeDefects: ReportedEvent[];
  /** Ended defects (at most 100) and signal events (at most 50), oldest first. */
  recentEvents: (ReportedEvent | SignalEvent)[];
  counters: {
    frames: number;
    framesDropped: number;
    audioSeconds: number;
    decodeErrors: number;
    reconnects: number;
    /** Signal events so far (a reader tells the new ones in recentEvents by it); absent from older analyzers. */
    signals?: number;
    /** Keyed by defect type: a built-in DefectType or a user model's `model:<name>`. */
    defects: Partial<Record<string, number>>;
  };
  /** EBU Mode readings of the current segment (since the start, a reconnect or a format change). */
  loudness: {
    /** Last 400 ms, LUFS, as of the last 100 ms step. */
    momentaryLufs: number | null;
    /** Last 3 s, LUFS, as of the last 100 ms step. */
    shortTermLufs: number | null;
    /** Gated (BS.1770-4), LUFS; refreshed once a second, exact in a finished input's final status. */
    integratedLufs: number | null;
    /** Highest true peak over the last second, dBTP. */
    truePeakDbtp: number | null;
    /** EBU Tech 3342 loudness range, LU; null until a 3 s window passes the absolute gate. */
    loudnessRangeLu: number | null;
    /** Highest momentary loudness, on a 10 ms grid (EBU Tech 3341 "Max M"), LUFS. */
    maxMomentaryLufs: number | null;
    /** Highest short-term loudness, on a 10 ms grid ("Max S"), LUFS. */
    maxShortTermLufs: number | null;
    /** Highest true peak of the segment, dBTP. */
    maxTruePeakDbtp: number | null;
  };
  /** The last complete programme loudness periods, oldest first (at most 24). */
  loudnessPeriods: LoudnessPeriod[];
  /** An HLS source followed by the analyzer's own client: its ladder; absent for other sources. */
  delivery?: DeliveryStatus;
}

/** One rendition of an HLS ladder as /status shows it. */
export interface RenditionStatus {
  name: string;
  /** Declared in the multivariant playlist (null for a media playlist URL). */
  bandwidth: number | null;
  resolution: string | null;
  codecs: string | null;
  frameRate: number | null;
  /** Listed, its playlist loads, and it advances (no playlist_stale or rendition_down on it). */
  alive: boolean;
  /**
   * The multivariant playlist (the MPD) lists it now; false: it left the ladder and is shown,
   * down, until it returns (the last 16 removed are remembered).
   */
  listed: boolean;
  /** ISO 8601 wall-clock time since when it is not alive (its down defect's start, or its removal); null while alive. */
  downSince: string | null;
  /** The same moment in timeline seconds (as events' `start`); null while alive. */
  downStart: number | null;
  targetDuration: number | null;
  lastMediaSequence: number | null;
  /** The last segment's size over its duration, bits/s. */
  segmentBitrate: number | null;
  /** The last segment's fetch time over its duration. */
  fetchRatio: number | null;
}

/** A cue the playlists mark (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN). */
export interface CueStatus {
  type: 'out' | 'in';
  /** Timeline seconds when it was first seen. */
  t: number;
  duration: number | null;
  id: string | null;
  rendition: string;
  msn: number;
}

export interface DeliveryStatus {
  /** The rendition decoded for the picture and sound checks. */
  rendition: string | null;
  declared: number;
  alive: number;
  renditions: RenditionStatus[];
  /** The last cues, oldest first (at most 20). */
  cues: CueStatus[];
}

/**
 * Bounds of an answer. The analyzer keeps at most one active defect per type (11 built-in
 * types plus user models), and per rendition for the 11 HLS delivery types (a ladder is cut
 * at 16 renditions, so about 190 at the very worst), and its last 100 events; the limits
 * leave room for version skew and stop a lying analyzer from handing the operator work or
 * memory out of proportion.
 */
export const STATUS_LIMITS = {
  maxActiveDefects: 256,
  maxRenditions: 64,
  maxRecentEvents: 256,
  maxDefectCounters: 64,
  maxLoudnessPeriods: 256,
  maxTypeLength: 80,
  maxTextLength: 4096,
  maxCount: Number.MAX_SAFE_INTEGER,
} as const;

const text = { type: 'string', maxLength: STATUS_LIMITS.maxTextLength } as const;
const nullableText = { type: ['string', 'null'], maxLength: STATUS_LIMITS.maxTextLength } as const;
// JSON cannot carry NaN; 1e309 parses to Infinity, which the bound refuses.
const finite = { type: 'number', minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE } as const;
const nullableSize = { type: ['number', 'null'], minimum: 0, maximum: 1e6 } as const;
// Loudness and peak levels: -Infinity is published as null; real readings sit far inside these bounds.
const nullableLevel = { type: ['number', 'null'], minimum: -1000, maximum: 1000 } as const;
const defectType = { type: 'string', minLength: 1, maxLength: STATUS_LIMITS.maxTypeLength } as const;
const event = {
  type: 'object',
  required: ['type', 'start', 'end', 'wallclock'],
  properties: {
    type: defectType,
    start: finite,
    end: { ...finite, type: ['number', 'null'] },
    wallclock: { type: 'string', maxLength: 64 },
  },
} as const;

/** JSON Schema (draft 7) of what the operator reads of /status; extra properties are allowed. */
export const ANALYZER_STATUS_SCHEMA = {
  $id: 'https://streamqc.io/schemas/analyzer-status.json',
  type: 'object',
  required: ['source', 'phase', 'mediaFlowing', 'format', 'bitrate', 'activeDefects', 'recentEvents', 'counters'],
  properties: {
    stream: text,
    source: text,
    phase: { type: 'string', maxLength: 32 },
    mediaFlowing: { type: 'boolean' },
    format: {
      type: 'object',
      properties: {
        videoCodec: nullableText,
        audioCodec: nullableText,
        channelLayout: nullableText,
        width: nullableSize,
        height: nullableSize,
        frameRate: nullableSize,
      },
    },
    bitrate: { type: ['number', 'null'], minimum: 0, maximum: 1e12 },
    activeDefects: { type: 'array', maxItems: STATUS_LIMITS.maxActiveDefects, items: event },
    recentEvents: { type: 'array', maxItems: STATUS_LIMITS.maxRecentEvents, items: event },
    loudness: {
      type: 'object',
      properties: {
        momentaryLufs: nullableLevel,
        shortTermLufs: nullableLevel,
        integratedLufs: nullableLevel,
        truePeakDbtp: nullableLevel,
        loudnessRangeLu: { type: ['number', 'null'], minimum: 0, maximum: 1000 },
        maxMomentaryLufs: nullableLevel,
        maxShortTermLufs: nullableLevel,
        maxTruePeakDbtp: nullableLevel,
      },
    },
    loudnessPeriods: {
      type: 'array',
      maxItems: STATUS_LIMITS.maxLoudnessPeriods,
      items: {
        type: 'object',
        required: ['start', 'end', 'closedBy', 'integratedLufs', 'loudnessRangeLu', 'maxTruePeakDbtp'],
        properties: {
          start: finite,
          end: finite,
          closedBy: { type: 'string', enum: ['period', 'marker', 'end'] },
          integratedLufs: nullableLevel,
          loudnessRangeLu: { type: ['number', 'null'], minimum: 0, maximum: 1000 },
          maxTruePeakDbtp: nullableLevel,
        },
      },
    },
    delivery: {
      type: 'object',
      required: ['declared', 'alive'],
      properties: {
        rendition: nullableText,
        declared: { type: 'integer', minimum: 0, maximum: STATUS_LIMITS.maxRenditions },
        alive: { type: 'integer', minimum: 0, maximum: STATUS_LIMITS.maxRenditions },
        renditions: {
          type: 'array',
          maxItems: STATUS_LIMITS.maxRenditions,
          items: {
            type: 'object',
            required: ['name', 'alive'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: STATUS_LIMITS.maxTypeLength },
              bandwidth: { type: ['number', 'null'], minimum: 0, maximum: 1e12 },
              resolution: { type: ['string', 'null'], maxLength: 32 },
              alive: { type: 'boolean' },
              listed: { type: 'boolean' },
              downSince: { type: ['string', 'null'], maxLength: 64 },
              downStart: { ...finite, type: ['number', 'null'] },
            },
          },
        },
      },
    },
    counters: {
      type: 'object',
      required: ['defects'],
      properties: {
        signals: { type: 'integer', minimum: 0, maximum: STATUS_LIMITS.maxCount },
        defects: {
          type: 'object',
          maxProperties: STATUS_LIMITS.maxDefectCounters,
          propertyNames: { maxLength: STATUS_LIMITS.maxTypeLength },
          additionalProperties: { type: 'number', minimum: 0, maximum: STATUS_LIMITS.maxCount },
        },
      },
    },
  },
} as const;

export type StatusCheck = { ok: true; status: AnalyzerStatus } | { ok: false; error: string };

let validate: ReturnType<Ajv['compile']> | null = null;

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '/status' : error.instancePath;
  return `${at} ${error.message ?? 'is invalid'}`;
}

/** Whether a parsed /status body is a status the operator may read; else the first schema error. */
export function checkAnalyzerStatus(body: unknown): StatusCheck {
  // allErrors off: the first error is all a message needs, and a 10,000-item array stops early.
  validate ??= new Ajv({ allErrors: false, allowUnionTypes: true }).compile(ANALYZER_STATUS_SCHEMA);
  if (validate(body)) return { ok: true, status: body as AnalyzerStatus };
  const first = validate.errors?.[0];
  return { ok: false, error: first ? describe(first) : 'is not a valid status' };
}
