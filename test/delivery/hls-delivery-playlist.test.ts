/**
 * HLS delivery checks of playlists against a live origin on loopback (hls-origin.ts): a
 * three-rendition ladder with 1 s segments advancing in real time. Each fault is injected
 * into one rendition at a known moment and must be found on that rendition, at that moment,
 * and on no healthy one; a healthy origin raises nothing and its ad cues are reported once.
 * One origin carries a fault per rendition at a time, so the suite stays short.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RenditionMedia } from './hls-origin.js';
import {
  eventOf,
  eventually,
  ladderFollowed,
  ladderMedia,
  nameOf,
  onlyOn,
  segmentFailed,
  startsWithin,
  watch,
} from './watch.js';

let media: RenditionMedia[] = [];
let remove = (): void => undefined;
before(async () => ({ media, remove } = await ladderMedia()));
after(() => remove());

describe('HLS delivery: playlists of a live loopback origin', () => {
  it('a healthy origin raises nothing, shows its ladder, and reports its cues once each', async () => {
    const w = await watch(media);
    try {
      await ladderFollowed(w, media.length);
      const msn = w.origin.liveMsn() + 2;
      w.origin.cues.push({ msn, id: 'break-1' });
      await eventually('the cue-in', () => w.cues.find((c) => c.type === 'in'));
      // Ten target durations of healthy delivery in all.
      await sleep(6000);
      assert.deepEqual(w.started, []);
      const cues = w.cues.map((c) => ({ type: c.type, id: c.id, msn: c.msn, duration: c.duration }));
      assert.deepEqual(
        cues.sort((a, b) => `${a.type}${String(a.id)}`.localeCompare(`${b.type}${String(b.id)}`)),
        [
          { type: 'in', id: null, msn: msn + 2, duration: null },
          { type: 'out', id: 'break-1', msn, duration: 2 },
          { type: 'out', id: null, msn, duration: 2 },
        ],
      );
      assert.deepEqual(
        w.monitor.renditions.map((r) => [r.name, r.loaded, r.targetDuration, r.declared?.resolution?.height]),
        media.map((m) => [nameOf(media, m.spec.name), true, 1, m.spec.height]),
      );
    } finally {
      await w.stop();
    }
  });

  it('a rolled-back sequence, a dropped discontinuity and a 404 are each found on their rendition', async () => {
    const w = await watch(media);
    try {
      await ladderFollowed(w, media.length);
      const at = w.now();
      w.origin.inject('r2', { sequenceRollback: 3 });
      w.origin.inject('r0', { dropDiscontinuity: true });
      w.origin.inject('r1', { failSegments: { status: 404, count: 1 } });

      const rollback = await eventOf(w, 'media_sequence', nameOf(media, 'r2'));
      assert.equal(rollback.detail?.kind, 'backwards');
      startsWithin(rollback, at, at + 3);
      // Its sequence numbers now name other moments than the ladder's: misaligned, after two target durations.
      const misaligned = await eventOf(w, 'ladder_misaligned', nameOf(media, 'r2'));
      assert.equal(misaligned.detail?.kind, 'sequence');
      startsWithin(misaligned, at, at + 3);

      const renumbered = await eventOf(w, 'discontinuity_sequence', nameOf(media, 'r0'));
      assert.equal(renumbered.detail?.kind, 'renumbered');
      startsWithin(renumbered, at, at + 3);

      await segmentFailed(w, nameOf(media, 'r1'), 404, at);
      onlyOn(
        w,
        ['r0', 'r1', 'r2'].map((r) => nameOf(media, r)),
      );
    } finally {
      await w.stop();
    }
  });

  it('a date jump is program_date_time and misaligns the ladder; a 500 and a long segment are found on theirs', async () => {
    const w = await watch(media);
    try {
      await ladderFollowed(w, media.length);
      const at = w.now();
      const fromMsn = w.origin.liveMsn() + 1;
      w.origin.inject('r0', { dateJump: { fromMsn, seconds: 30 } });
      w.origin.inject('r2', { failSegments: { status: 500, count: 1 } });
      // 1.6 s rounds to 2, over the target duration of 1 (RFC 8216 section 4.3.3.1).
      w.origin.inject('r1', { declaredDuration: 1.6 });

      const jump = await eventOf(w, 'program_date_time', nameOf(media, 'r0'));
      assert.deepEqual([jump.detail?.msn, jump.detail?.jumpSeconds], [fromMsn, 30]);
      startsWithin(jump, at, at + 4);
      const misaligned = await eventOf(w, 'ladder_misaligned', nameOf(media, 'r0'));
      assert.deepEqual([misaligned.detail?.kind, misaligned.detail?.offsetSeconds], ['date', 30]);

      await segmentFailed(w, nameOf(media, 'r2'), 500, at);
      const long = await eventOf(w, 'segment_duration', nameOf(media, 'r1'));
      assert.deepEqual([long.detail?.duration, long.detail?.targetDuration], [1.6, 1]);
      startsWithin(long, at, at + 3);
      onlyOn(
        w,
        ['r0', 'r1', 'r2'].map((r) => nameOf(media, r)),
      );
    } finally {
      await w.stop();
    }
  });
});
