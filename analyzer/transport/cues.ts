/**
 * Ad cues whichever layer carried them: an SCTE-35 splice_info_section in the transport stream
 * (`ts`) or a tag of an HLS playlist (`hls`). What a break needs of a cue (its direction, its
 * announced duration, its id) is read the same way for both, so that cues_missing,
 * break_not_returned, the cue events and the cue metrics treat them alike.
 */
import type { TransportEvent } from './checker.js';

export type CueEvent = Extract<TransportEvent, { kind: 'cue' | 'hls_cue' }>;

export interface CueFacts {
  source: 'ts' | 'hls';
  direction: 'out' | 'in' | 'none';
  /** The break's announced length, seconds (break_duration, segmentation_duration, DURATION). */
  duration: number | null;
  /** splice_event_id or segmentation_event_id (ts), EXT-X-DATERANGE ID (hls); null when there is none. */
  id: number | string | null;
  /** What the metrics count it by: the splice command (ts) or the playlist tag and direction (hls). */
  command: string;
}

export function isCue(event: TransportEvent): event is CueEvent {
  return event.kind === 'cue' || event.kind === 'hls_cue';
}

export function cueFacts(event: CueEvent): CueFacts {
  if (event.kind === 'hls_cue') {
    return {
      source: 'hls',
      direction: event.direction,
      duration: event.duration,
      id: event.id,
      command: `${event.tag === 'EXT-X-CUE' ? 'ext_x_cue' : 'ext_x_daterange'}_${event.direction}`,
    };
  }
  const { info } = event;
  // The descriptor that decides the direction (scte35.ts cueDirection) is the first one not cancelled.
  const segmentation = info.segmentations.find((s) => !s.cancel);
  return {
    source: 'ts',
    direction: event.direction,
    duration: info.breakDuration ?? segmentation?.duration ?? null,
    id: info.spliceEventId ?? segmentation?.eventId ?? null,
    command: info.command,
  };
}
