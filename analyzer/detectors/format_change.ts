/**
 * format_change: resolution, frame rate, codec or audio layout changes. The first format
 * seen is the reference; every later format that differs from the previous one is one
 * instant event (start = end = the time of the change) naming each change, e.g.
 * `resolution: 1280x720 -> 640x360`.
 */
import { bool, type OptionTable, type OptionValues } from '../options.js';
import { defineDetector, type DefectEvent, type DefectSink, type Detector, type StreamFormat } from './detector.js';

export const formatChangeOptions = {
  enabled: bool(true, 'Report changes of resolution, frame rate, codecs or audio layout'),
} satisfies OptionTable;

export type FormatChangeOptions = OptionValues<typeof formatChangeOptions>;

/** The parts of a format as a person names them in an event's detail. */
export type FormatAspect = 'resolution' | 'frameRate' | 'videoCodec' | 'audioCodec' | 'sampleRate' | 'channels';

/** Aspects whose change makes picture statistics (detail, blockiness) incomparable. */
export const PICTURE_ASPECTS: readonly FormatAspect[] = ['resolution', 'videoCodec'];

/** Frame rates are reported as floats (29.97002997 vs 29.97): closer than this is the same rate. */
const FRAME_RATE_TOLERANCE = 1e-3;

function show(value: string | number | null): string {
  return value === null ? 'none' : String(value);
}

function resolution(f: StreamFormat): string {
  return f.width === null || f.height === null ? 'none' : `${f.width}x${f.height}`;
}

function channels(f: StreamFormat): string {
  if (f.channels === null) return show(f.channelLayout);
  return f.channelLayout === null ? `${f.channels} ch` : `${f.channels} ch (${f.channelLayout})`;
}

/**
 * Two audio layouts are the same when they name the same layout, or when one of them is unnamed and the
 * channel counts agree: ffmpeg names a layout only once it has decoded audio (the probe may say `1 ch`
 * and the decoder `1 ch (mono)` for the same stream), so a name appearing is not a change.
 */
function sameChannels(a: StreamFormat, b: StreamFormat): boolean {
  if (a.channels !== null && a.channels === b.channels && (a.channelLayout === null || b.channelLayout === null)) {
    return true;
  }
  return channels(a) === channels(b);
}

function sameFrameRate(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= FRAME_RATE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** Changed aspect (a FormatAspect) -> `before -> after`; only the aspects that changed are present. */
export type FormatDifferences = Record<string, string>;

/** Each aspect that differs between two formats, as `before -> after` text. */
export function formatDifferences(before: StreamFormat, after: StreamFormat): FormatDifferences {
  const out: FormatDifferences = {};
  const compare = (aspect: FormatAspect, a: string, b: string): void => {
    if (a !== b) out[aspect] = `${a} -> ${b}`;
  };
  compare('resolution', resolution(before), resolution(after));
  if (!sameFrameRate(before.frameRate, after.frameRate)) {
    out.frameRate = `${show(before.frameRate)} -> ${show(after.frameRate)}`;
  }
  compare('videoCodec', show(before.videoCodec), show(after.videoCodec));
  compare('audioCodec', show(before.audioCodec), show(after.audioCodec));
  compare('sampleRate', show(before.sampleRate), show(after.sampleRate));
  if (!sameChannels(before, after)) out.channels = `${channels(before)} -> ${channels(after)}`;
  return out;
}

/** Whether the picture itself changed size or codec between two formats. */
export function pictureChanged(before: StreamFormat, after: StreamFormat): boolean {
  const differences = formatDifferences(before, after);
  return PICTURE_ASPECTS.some((aspect) => aspect in differences);
}

export function createFormatChangeDetector(
  _options: FormatChangeOptions,
  sink: DefectSink<'format_change'>,
): Detector<'format_change'> {
  let previous: StreamFormat | null = null;
  return {
    type: 'format_change',
    onFormat(t, format) {
      const before = previous;
      previous = { ...format };
      if (before === null) return;
      const detail = formatDifferences(before, format);
      if (Object.keys(detail).length === 0) return;
      // Instant: `started` keeps the sink contract (end null while active), `ended` carries end = start.
      const event: DefectEvent<'format_change'> = { type: 'format_change', start: t, end: null, detail };
      sink.started({ ...event, detail: { ...detail } });
      sink.ended({ ...event, end: t, detail: { ...detail } });
    },
    flush() {
      // Nothing is ever active: every change is reported the moment it happens.
    },
  };
}

export const formatChangeDetector = defineDetector({
  type: 'format_change',
  options: formatChangeOptions,
  create: (options, { sink }) => createFormatChangeDetector(options, sink),
});
