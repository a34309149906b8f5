/**
 * What the HLS client asks the origin for, per rendition (hls-origin.ts logs every request):
 * with segmentChecks `decoded` the decoded rendition's segments are downloaded and the others
 * get one HEAD per segment, a full GET only for their first probed segment; a later probed
 * segment (the first of a discontinuity sequence) gets a Range GET of its first bytes, and a
 * full GET only when those show other media than the last probe. A server that refuses HEAD
 * gets a one-byte Range instead, and the bit rate check still works from the size the headers
 * give. With `all` every segment is downloaded.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOOP_SEGMENTS, type HlsOrigin, type RenditionMedia } from './hls-origin.js';
import { MIN_PROBE_INTERVAL_SECONDS } from '../../analyzer/delivery/rendition-poller.js';
import { FINGERPRINT_BYTES } from '../../analyzer/delivery/media-fingerprint.js';
import { eventOf, eventually, ladderFollowed, ladderMedia, nameOf, onlyOn, watch } from './watch.js';
import { setTimeout as sleep } from 'node:timers/promises';

let media: RenditionMedia[] = [];
let remove = (): void => undefined;
before(async () => ({ media, remove } = await ladderMedia()));
after(() => remove());

interface SegmentRequest {
  method: string;
  msn: number;
  range: string | null;
  bytes: number;
}

/** The origin's segment requests of one rendition, in order. */
function segmentRequests(origin: HlsOrigin, rendition: string): SegmentRequest[] {
  return origin.log.flatMap((r) => {
    const m = new RegExp(`^/${rendition}/seg-(\\d+)\\.ts$`).exec(r.path);
    return m ? [{ method: r.method, msn: Number(m[1]), range: r.range, bytes: r.bytes }] : [];
  });
}

const fullGets = (requests: SegmentRequest[]): SegmentRequest[] =>
  requests.filter((r) => r.method === 'GET' && r.range === null);

const FINGERPRINT_RANGE = `bytes=0-${FINGERPRINT_BYTES - 1}`;
const fingerprintReads = (requests: SegmentRequest[]): SegmentRequest[] =>
  requests.filter((r) => r.method === 'GET' && r.range === FINGERPRINT_RANGE);

describe('HLS delivery: which segments are downloaded', () => {
  it('segmentChecks decoded: the decoded rendition in full, the others by HEAD, their first bytes where probed', async () => {
    const decoded = nameOf(media, 'r0');
    // Every discontinuity probed (the default spaces them by MIN_PROBE_INTERVAL_SECONDS: see below).
    const w = await watch(media, { segmentChecks: 'decoded', decoded, probeIntervalSeconds: 0 });
    try {
      await ladderFollowed(w, media.length);
      // Long enough for a loop point (a discontinuity) on every rendition.
      await sleep((LOOP_SEGMENTS + 1) * 1000);
    } finally {
      await w.stop();
    }
    const r0 = segmentRequests(w.origin, 'r0');
    assert.ok(r0.length >= LOOP_SEGMENTS + 1, `r0 segments: ${r0.length}`);
    assert.deepEqual(fullGets(r0), r0, 'the decoded rendition downloads every segment');
    for (const rendition of ['r1', 'r2']) {
      const requests = segmentRequests(w.origin, rendition);
      const msns = requests.map((r) => r.msn);
      assert.deepEqual(msns, [...new Set(msns)], `${rendition}: a segment was asked for twice`);
      // The same media at each loop point: only the first segment is downloaded and ffprobed.
      assert.deepEqual(fullGets(requests), requests.slice(0, 1), `${rendition}: downloads other than the first`);
      const later = [...new Set(msns.slice(1))].filter((msn) => msn % LOOP_SEGMENTS === 0);
      assert.ok(later.length >= 1, `${rendition}: no discontinuity checked`);
      assert.deepEqual(
        fingerprintReads(requests).map((r) => r.msn),
        later,
        `${rendition}: discontinuities read`,
      );
      assert.ok(fingerprintReads(requests).every((r) => r.bytes === FINGERPRINT_BYTES));
      const heads = requests.filter((r) => r.method === 'HEAD');
      assert.ok(heads.length >= 2, `${rendition}: ${heads.length} HEADs`);
      assert.equal(heads.length + later.length + 1, requests.length);
      assert.ok(heads.every((r) => r.bytes === 0));
    }
    onlyOn(w, []);
  });

  it('a period whose first bytes show other media is downloaded and probed: a wrong RESOLUTION is found', async () => {
    const w = await watch(media, { segmentChecks: 'decoded', decoded: nameOf(media, 'r0'), probeIntervalSeconds: 0 });
    const [r1, r2] = [media[1], media[2]];
    assert.ok(r1 && r2);
    const own = [...r1.segments];
    try {
      await ladderFollowed(w, media.length);
      // r1 now carries r2's smaller picture under r1's declaration (as a badly encoded ad might).
      r1.segments.splice(0, r1.segments.length, ...r2.segments);
      const mismatch = await eventOf(w, 'variant_mismatch', nameOf(media, 'r1'));
      assert.deepEqual(
        [mismatch.detail?.field, mismatch.detail?.declared, mismatch.detail?.probed],
        ['RESOLUTION', `${r1.spec.width}x${r1.spec.height}`, `${r2.spec.width}x${r2.spec.height}`],
      );
    } finally {
      r1.segments.splice(0, r1.segments.length, ...own);
      await w.stop();
    }
    const requests = segmentRequests(w.origin, 'r1');
    const probedAgain = fullGets(requests).slice(1);
    assert.ok(probedAgain.length >= 1, JSON.stringify(requests));
    // Each is a discontinuity whose first bytes were read first and differed.
    for (const full of probedAgain) {
      assert.equal(full.msn % LOOP_SEGMENTS, 0);
      assert.ok(
        fingerprintReads(requests).some((r) => r.msn === full.msn),
        `segment ${full.msn} not read first`,
      );
    }
    onlyOn(w, [nameOf(media, 'r1')]);
  });

  it('a lying BANDWIDTH of a rendition that is not decoded is found from the size a HEAD gives', async () => {
    const w = await watch(media, { segmentChecks: 'decoded', decoded: nameOf(media, 'r0') });
    try {
      await ladderFollowed(w, media.length);
      const peak = media[1]?.peakBitrate ?? 0;
      w.origin.inject('r1', { declare: { bandwidth: Math.round(peak / 4) } });
      const mismatch = await eventOf(w, 'bandwidth_mismatch', nameOf(media, 'r1'));
      assert.ok(Number(mismatch.detail?.measured) > Number(mismatch.detail?.declared) * 1.1);
      const checked = segmentRequests(w.origin, 'r1').filter((r) => r.msn === mismatch.detail?.msn);
      assert.deepEqual(
        checked.map((r) => [r.method, r.bytes]),
        [['HEAD', 0]],
        'the segment that showed it was not downloaded',
      );
    } finally {
      await w.stop();
    }
    onlyOn(w, [nameOf(media, 'r1')]);
  });

  it(`by default a discontinuity is probed only ${MIN_PROBE_INTERVAL_SECONDS} s after the last probe`, async () => {
    const w = await watch(media, { segmentChecks: 'decoded', decoded: nameOf(media, 'r0') });
    try {
      await ladderFollowed(w, media.length);
      await sleep((LOOP_SEGMENTS + 1) * 1000);
    } finally {
      await w.stop();
    }
    for (const rendition of ['r1', 'r2']) {
      const requests = segmentRequests(w.origin, rendition);
      assert.ok(
        requests.some((r) => r.msn % LOOP_SEGMENTS === 0 && r !== requests[0]),
        'no discontinuity was checked',
      );
      assert.deepEqual(
        fullGets(requests).map((r) => r.msn),
        requests.slice(0, 1).map((r) => r.msn),
        `${rendition}: only its first segment is downloaded`,
      );
    }
  });

  it('a server that refuses HEAD gets a one-byte Range, and a lying BANDWIDTH is still found from its size', async () => {
    const w = await watch(media, { segmentChecks: 'decoded', decoded: nameOf(media, 'r0') });
    try {
      w.origin.inject('r1', { refuseHead: true });
      await ladderFollowed(w, media.length);
      const peak = media[1]?.peakBitrate ?? 0;
      w.origin.inject('r1', { declare: { bandwidth: Math.round(peak / 4) } });
      const mismatch = await eventOf(w, 'bandwidth_mismatch', nameOf(media, 'r1'));
      assert.ok(Number(mismatch.detail?.measured) > Number(mismatch.detail?.declared) * 1.1);
      // Two checks after the refusal: HEAD is not asked again.
      await eventually('a second ranged check', () =>
        segmentRequests(w.origin, 'r1').filter((r) => r.range !== null).length >= 2 ? true : undefined,
      );
    } finally {
      await w.stop();
    }
    const r1 = segmentRequests(w.origin, 'r1');
    // HEAD is asked once, refused, and not asked again: the other checks are ranged.
    assert.equal(r1.filter((r) => r.method === 'HEAD').length, 1, JSON.stringify(r1));
    const ranged = r1.filter((r) => r.range === 'bytes=0-0');
    assert.ok(ranged.length >= 2, JSON.stringify(r1));
    assert.ok(ranged.every((r) => r.method === 'GET' && r.bytes === 1));
    onlyOn(w, [nameOf(media, 'r1')]);
  });

  it('segmentChecks all: every segment of every rendition is downloaded', async () => {
    const w = await watch(media, { segmentChecks: 'all' });
    try {
      await ladderFollowed(w, media.length);
      await sleep(2000);
    } finally {
      await w.stop();
    }
    for (const spec of media.map((m) => m.spec.name)) {
      const requests = segmentRequests(w.origin, spec);
      assert.ok(requests.length >= 3, `${spec}: ${requests.length} segments`);
      assert.deepEqual(fullGets(requests), requests, `${spec}: a segment was not downloaded`);
    }
  });
});
