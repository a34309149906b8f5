/**
 * streamqc's playlist checks against Eyevinn's hls-monitor, where they overlap, by behaviour.
 *
 * hls-monitor cannot run here: `npm view @eyevinn/hls-monitor` answers E404 from the npm
 * registry this machine reaches (the package is not there), and nothing may be fetched from
 * elsewhere. So its error types, as its source (src/HLSMonitor.ts) writes them, are mapped to
 * ours with the condition under which it raises each; the loopback origin then injects the
 * fault that meets that condition, and streamqc must report the mapped type, of the mapped
 * kind, on the rendition at fault. Where it does not overlap is said in the table.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import type { RenditionFaults, RenditionMedia } from './hls-origin.js';
import { eventually, ladderFollowed, ladderMedia, nameOf, watch, type Watch } from './watch.js';

interface EyevinnError {
  /** The start of hls-monitor's error text. */
  message: string;
  /** When hls-monitor raises it. */
  condition: string;
  /** What streamqc reports for the same fault, or null where streamqc has no such check. */
  streamqc: { type: string; kind?: string } | null;
  /** The origin fault that meets the condition, on which rendition, and when it takes effect. */
  fault?: { rendition: string; set: (liveMsn: number) => RenditionFaults; on: 'inject' | 'clear' };
}

const EYEVINN_ERRORS: EyevinnError[] = [
  {
    message: 'Error in mediaSequence!',
    condition: 'EXT-X-MEDIA-SEQUENCE lower than at the previous load',
    streamqc: { type: 'media_sequence', kind: 'backwards' },
    fault: { rendition: 'r0', set: () => ({ sequenceRollback: 3 }), on: 'inject' },
  },
  {
    message: 'Error in playlist! ... Faulty Segment Continuity!',
    condition: 'the sequence advanced, but the first segment is not the one the step predicts',
    streamqc: { type: 'media_sequence', kind: 'skip' },
    fault: { rendition: 'r0', set: () => ({ sequenceRollback: 3 }), on: 'clear' },
  },
  {
    message: 'Error in discontinuitySequence!',
    condition: 'EXT-X-DISCONTINUITY-SEQUENCE does not count the tagged segments that left the window',
    streamqc: { type: 'discontinuity_sequence' },
    fault: { rendition: 'r1', set: () => ({ dropDiscontinuity: true }), on: 'inject' },
  },
  {
    message: 'Stale manifest!',
    // hls-monitor: 6000 ms by default, for the stream as a whole (the newest change of any
    // variant); streamqc: RFC 8216 6.2.1's 1.5 target durations plus the reload cadence, per
    // rendition, so one frozen rendition of a live ladder is found.
    condition: 'no new media sequence for the stale limit',
    streamqc: { type: 'playlist_stale' },
    fault: { rendition: 'r2', set: (liveMsn) => ({ frozenAt: liveMsn }), on: 'inject' },
  },
  {
    message: 'Error in playlist! Expected playlist size',
    condition: 'the same media sequence lists fewer segments',
    streamqc: null,
  },
  {
    message: 'Error in playlist! Expected playlist item-uri',
    condition: 'the same media sequence lists another URI at an index',
    streamqc: null,
  },
];

let media: RenditionMedia[] = [];
let remove = (): void => undefined;
before(async () => ({ media, remove } = await ladderMedia()));
after(() => remove());

function reported(w: Watch, error: EyevinnError, since: number): Promise<DefectEvent> {
  const rendition = nameOf(media, error.fault?.rendition ?? '');
  const { type, kind } = error.streamqc ?? { type: '' };
  return eventually(`${error.message} as ${type} on ${rendition}`, () =>
    w.started.find(
      (e) =>
        e.type === type &&
        e.detail?.rendition === rendition &&
        (kind === undefined || e.detail.kind === kind) &&
        e.start >= since,
    ),
  );
}

describe("hls-monitor's playlist errors, where they overlap, are streamqc's", () => {
  it('each overlapping error type is found as its streamqc type and kind, on the rendition at fault', async () => {
    const overlapping = EYEVINN_ERRORS.filter((e) => e.streamqc !== null);
    assert.deepEqual(
      [...new Set(overlapping.map((e) => e.streamqc?.type))],
      ['media_sequence', 'discontinuity_sequence', 'playlist_stale'],
    );
    const w = await watch(media);
    try {
      await ladderFollowed(w, media.length);
      const injectedAt = w.now();
      for (const error of overlapping.filter((e) => e.fault?.on === 'inject')) {
        const { rendition, set } = error.fault!;
        w.origin.inject(rendition, set(w.origin.liveMsn()));
      }
      for (const error of overlapping.filter((e) => e.fault?.on === 'inject')) {
        await reported(w, error, injectedAt - 2);
      }
      // Cleared: the rolled-back rendition's sequence steps forward past its segments.
      const clearedAt = w.now();
      w.origin.faults.set('r0', {});
      for (const error of overlapping.filter((e) => e.fault?.on === 'clear')) {
        await reported(w, error, clearedAt - 1);
      }
    } finally {
      await w.stop();
    }
  });
});
