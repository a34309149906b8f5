/**
 * HLS delivery checks of segments and variant declarations against a live origin on loopback
 * (hls-origin.ts): a playlist that stops, a segment slower than real time, a multivariant
 * playlist that lies about BANDWIDTH and RESOLUTION or drops a variant, each found on its
 * rendition only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RenditionMedia } from './hls-origin.js';
import { eventOf, eventually, ladderFollowed, ladderMedia, nameOf, onlyOn, startsWithin, watch } from './watch.js';

let media: RenditionMedia[] = [];
let remove = (): void => undefined;
before(async () => ({ media, remove } = await ladderMedia()));
after(() => remove());

describe('HLS delivery: segments and declarations of a live loopback origin', () => {
  it('a playlist that stops updating is playlist_stale and a slow segment is segment_slow, each on its rendition', async () => {
    const w = await watch(media);
    try {
      await ladderFollowed(w, media.length);
      const at = w.now();
      w.origin.inject('r1', { frozenAt: w.origin.liveMsn() });
      w.origin.inject('r2', { slowFactor: 2 });
      // Stale from when it last advanced: at most one segment before the freeze.
      const stale = await eventOf(w, 'playlist_stale', nameOf(media, 'r1'));
      startsWithin(stale, at - 1.5, at + 0.5);
      const slow = await eventOf(w, 'segment_slow', nameOf(media, 'r2'));
      assert.ok(Number(slow.detail?.fetchSeconds) > 1, JSON.stringify(slow.detail));
      startsWithin(slow, at - 0.1, at + 4);
      onlyOn(
        w,
        ['r1', 'r2'].map((r) => nameOf(media, r)),
      );
    } finally {
      await w.stop();
    }
  });

  it('a lying BANDWIDTH and RESOLUTION are found on their rendition; a removed variant is down until it returns', async () => {
    const w = await watch(media);
    try {
      await ladderFollowed(w, media.length);
      const peak = media[0]?.peakBitrate ?? 0;
      const at = w.now();
      w.origin.inject('r0', { declare: { bandwidth: Math.round(peak / 4), resolution: '640x360' } });
      w.origin.inject('r1', { removed: true });
      const bandwidth = await eventOf(w, 'bandwidth_mismatch', nameOf(media, 'r0'));
      assert.ok(Number(bandwidth.detail?.measured) > Number(bandwidth.detail?.declared) * 1.1);
      const variant = await eventOf(w, 'variant_mismatch', nameOf(media, 'r0'));
      assert.deepEqual(
        [variant.detail?.field, variant.detail?.declared, variant.detail?.probed],
        ['RESOLUTION', '640x360', '320x180'],
      );
      for (const e of [bandwidth, variant]) startsWithin(e, at, at + 4);

      const down = await eventOf(w, 'rendition_down', nameOf(media, 'r1'));
      assert.equal(down.detail?.reason, 'removed');
      startsWithin(down, at, at + 2.5);
      const returnedAt = w.now();
      w.origin.inject('r1', { removed: false });
      const back = await eventually('its return', () => w.ended.find((e) => e.type === 'rendition_down'));
      assert.ok(back.end !== null && back.end >= returnedAt && back.end <= returnedAt + 2.5, `back at ${back.end}`);
      onlyOn(
        w,
        ['r0', 'r1'].map((r) => nameOf(media, r)),
      );
    } finally {
      await w.stop();
    }
  });
});
