/**
 * DASH delivery checks against a live origin on loopback (dash-origin.ts): two video
 * Representations and one audio, 1 s segments in a SegmentTimeline that advances in real
 * time. Each fault is injected into one Representation (or the MPD) at a known moment and
 * must be found there, at that moment, and nowhere else; a healthy origin raises nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DashOrigin, type RepresentationMedia } from './dash-origin.js';
import {
  dashEventOf,
  dashMedia,
  raisedOnlyOn,
  readyForFaults,
  representationsFollowed,
  segmentErrorClosed,
  watchDash,
} from './dash-watch.js';
import { eventually, startsWithin } from './watch.js';

let media: RepresentationMedia[] = [];
let remove = (): void => undefined;
before(async () => ({ media, remove } = await dashMedia()));
after(() => remove());

describe('DASH delivery: a live loopback origin', () => {
  it('a healthy origin raises nothing over twelve segment durations and each segment is fetched once', async () => {
    const w = await watchDash(new DashOrigin(media));
    try {
      await representationsFollowed(w, 3);
      await sleep(12_000);
      assert.deepEqual(w.started, []);
      assert.deepEqual(
        w.monitor.renditions.map((r) => [r.name, r.loaded, r.targetDuration, r.declared?.resolution?.height, r.ended]),
        [
          ['180p', true, 1, 180, false],
          ['96p', true, 1, 96, false],
          ['audio', true, 1, undefined, false],
        ],
      );
      // The MPD is reloaded at its minimumUpdatePeriod (1 s), or half of it after a load that changed nothing.
      const reloads = w.origin.requests.filter((p) => p.endsWith('.mpd')).length;
      assert.ok(reloads >= 10 && reloads <= 30, `${reloads} MPD loads in about 13 s`);
      const segments = w.origin.requests.filter((p) => p.endsWith('.m4s'));
      assert.ok(segments.length >= 30, `${segments.length} segments`);
      assert.deepEqual(segments, [...new Set(segments)], 'a segment was fetched twice');
      // The probe read each Representation's first segment with its initialization segment.
      const probed = w.observations.flatMap((o) => (o.kind === 'probed' ? [[o.rendition, o.probed.codecs]] : []));
      assert.deepEqual(probed.sort(), [
        ['180p', ['h264']],
        ['96p', ['h264']],
        ['audio', ['aac']],
      ]);
    } finally {
      await w.stop();
    }
  });

  it('a new Period whose $Number$ starts again at 1 continues the stream: no defect, every segment fetched once', async () => {
    const origin = new DashOrigin(media);
    // The split a few seconds ahead: the client follows the first Period, then sees the second appear.
    origin.newPeriodAt = origin.liveNumber() + 4;
    const w = await watchDash(origin);
    try {
      await representationsFollowed(w, 3);
      await eventually('six segments of the second Period fetched for each Representation', () =>
        ['180p', '96p', 'audio'].every(
          (id) => w.origin.requests.filter((p) => p.startsWith(`/live/${id}/p1-`)).length >= 6,
        )
          ? true
          : undefined,
      );
      assert.deepEqual(w.started, []);
      const segments = w.origin.requests.filter((p) => p.endsWith('.m4s'));
      assert.deepEqual(segments, [...new Set(segments)], 'a segment was fetched twice');
      // None skipped at the split: the first Period's last segment and the second's first were both fetched.
      const split = origin.newPeriodAt;
      for (const id of ['180p', '96p', 'audio']) {
        assert.ok(segments.includes(`/live/${id}/${split - 1}.m4s`), `${id}: the first Period's last segment`);
        assert.ok(segments.includes(`/live/${id}/p1-1.m4s`), `${id}: the second Period's first segment`);
      }
    } finally {
      await w.stop();
    }
  });

  it('an ad Period listing the ladder under ids of its own continues each rendition by rank: no defect, the names stay', async () => {
    const origin = new DashOrigin(media);
    origin.newPeriodAt = origin.liveNumber() + 4;
    // As server-side ad insertion lists them: ids that sort otherwise than the ladder's ranks.
    const adIds = { '180p': 'ad2', '96p': 'ad1', audio: 'ad3' };
    for (const [id, ad] of Object.entries(adIds)) origin.secondPeriodIds.set(id, ad);
    const w = await watchDash(origin);
    try {
      await representationsFollowed(w, 3);
      // Seven segments into the ad: the first Period has left the five-segment window.
      await eventually('seven segments of the ad Period fetched for each Representation', () =>
        Object.values(adIds).every((ad) => w.origin.requests.filter((p) => p.startsWith(`/live/${ad}/p1-`)).length >= 7)
          ? true
          : undefined,
      );
      assert.deepEqual(w.started, []);
      assert.deepEqual(
        w.monitor.renditions.map((r) => [r.name, r.declared?.resolution?.height ?? null, r.loaded]),
        [
          ['180p', 180, true],
          ['96p', 96, true],
          ['audio', null, true],
        ],
      );
      const segments = w.origin.requests.filter((p) => p.endsWith('.m4s'));
      assert.deepEqual(segments, [...new Set(segments)], 'a segment was fetched twice');
      const split = origin.newPeriodAt;
      for (const [id, ad] of Object.entries(adIds)) {
        assert.ok(segments.includes(`/live/${id}/${split - 1}.m4s`), `${id}: the programme's last segment`);
        assert.ok(segments.includes(`/live/${ad}/p1-1.m4s`), `${id}: the ad's first segment, as ${ad}`);
      }
    } finally {
      await w.stop();
    }
  });

  it('a frozen timeline, a timeline gap, a 404 and a publishTime that goes back are each found where injected', async () => {
    const w = await watchDash(new DashOrigin(media));
    try {
      const { at, fromNumber } = await readyForFaults(w);
      w.origin.inject('96p', { frozenAt: w.origin.liveNumber() });
      w.origin.inject('180p', { timelineShift: { fromNumber, seconds: 0.5 } });
      w.origin.inject('audio', { failSegments: { status: 404, count: 1 } });
      w.origin.publishTimeBack = 30;

      // Stale from when the client last saw it advance: at most a segment before the freeze, or the
      // last segment it lists, seen on the next reload (minimumUpdatePeriod: 1 s) after it.
      const stale = await dashEventOf(w, 'playlist_stale', '96p');
      startsWithin(stale, at - 1.5, at + 1.5);
      const gap = await dashEventOf(w, 'segment_timeline', '180p');
      assert.deepEqual([gap.detail?.kind, gap.detail?.number, gap.detail?.seconds], ['gap', fromNumber, 0.5]);
      startsWithin(gap, at + 1, at + 4);
      await segmentErrorClosed(w, 'audio', 404, at);
      const back = await dashEventOf(w, 'publish_time', 'mpd');
      assert.ok(Number(back.detail?.backSeconds) >= 28, JSON.stringify(back.detail));
      startsWithin(back, at, at + 2);
      raisedOnlyOn(w, ['96p', '180p', 'audio', 'mpd']);
    } finally {
      await w.stop();
    }
  });

  it('a slow segment, a 500, an overlap, a lying @bandwidth and a removed Representation are found on theirs', async () => {
    const w = await watchDash(new DashOrigin(media));
    try {
      const { at, fromNumber } = await readyForFaults(w);
      const audioPeak = media[2]?.peakBitrate ?? 0;
      // Half the truth on 96p: within what minBufferTime (2 s) absorbs, so no bandwidth_mismatch there.
      w.origin.inject('96p', { slowFactor: 2, bandwidth: Math.round((media[1]?.peakBitrate ?? 0) / 2) });
      w.origin.inject('180p', {
        failSegments: { status: 500, count: 1 },
        timelineShift: { fromNumber, seconds: -0.5 },
      });
      // A fifth of the truth: over even what minBufferTime (2 s) lets a 1 s segment exceed it by.
      w.origin.inject('audio', { bandwidth: Math.round(audioPeak / 5) });

      const slow = await dashEventOf(w, 'segment_slow', '96p');
      assert.ok(Number(slow.detail?.fetchSeconds) > 1, JSON.stringify(slow.detail));
      startsWithin(slow, at - 0.1, at + 4);
      await segmentErrorClosed(w, '180p', 500, at);
      const overlap = await dashEventOf(w, 'segment_timeline', '180p');
      assert.deepEqual(
        [overlap.detail?.kind, overlap.detail?.number, overlap.detail?.seconds],
        ['overlap', fromNumber, 0.5],
      );
      const bandwidth = await dashEventOf(w, 'bandwidth_mismatch', 'audio');
      assert.ok(
        Number(bandwidth.detail?.measured) > Number(bandwidth.detail?.declared) * 3,
        JSON.stringify(bandwidth.detail),
      );
      startsWithin(bandwidth, at, at + 3);

      const removedAt = w.now();
      w.origin.inject('audio', { removed: true });
      const down = await dashEventOf(w, 'rendition_down', 'audio');
      assert.equal(down.detail?.reason, 'removed');
      startsWithin(down, removedAt, removedAt + 2);
      assert.deepEqual(
        w.monitor.renditions.map((r) => r.name),
        ['180p', '96p'],
      );
      const returnedAt = w.now();
      w.origin.inject('audio', { removed: false });
      const back = await eventually('its return', () => w.ended.find((e) => e.type === 'rendition_down'));
      assert.ok(back.end !== null && back.end >= returnedAt && back.end <= returnedAt + 2, `back at ${back.end}`);
      raisedOnlyOn(w, ['96p', '180p', 'audio']);
      assert.deepEqual(
        w.started.filter((e) => e.type === 'bandwidth_mismatch').map((e) => e.detail?.rendition),
        ['audio'],
      );
    } finally {
      await w.stop();
    }
  });

  it('with segmentChecks decoded only the decoded Representation is downloaded: the others get HEADs and one probed segment, and a 404 on one is found', async () => {
    const w = await watchDash(new DashOrigin(media), { segmentChecks: 'decoded', decoded: '180p' });
    try {
      await readyForFaults(w);
      const requests = (id: string, what: RegExp): { method: string; bytes: number }[] =>
        w.origin.log.filter((e) => e.path.startsWith(`/live/${id}/`) && what.test(e.path));
      const media = /\/\d+\.m4s$/;
      await eventually('five headers-only checks of each Representation not decoded', () =>
        ['96p', 'audio'].every((id) => requests(id, media).filter((e) => e.method === 'HEAD').length >= 5)
          ? true
          : undefined,
      );
      const at = w.now();
      w.origin.inject('96p', { failSegments: { status: 404, count: 1 } });
      await segmentErrorClosed(w, '96p', 404, at);
      raisedOnlyOn(w, ['96p']);

      const decoded = requests('180p', media);
      assert.ok(decoded.length >= 5, `${decoded.length} segments of 180p`);
      assert.ok(
        decoded.every((e) => e.method === 'GET' && e.bytes > 0),
        JSON.stringify(decoded),
      );
      for (const id of ['96p', 'audio']) {
        const checked = requests(id, media);
        const gets = checked.filter((e) => e.method === 'GET');
        const heads = checked.filter((e) => e.method === 'HEAD');
        // The first segment of the Period is downloaded (and probed); every later one is a HEAD, no body.
        assert.equal(gets.length, 1, `${id}: ${JSON.stringify(checked)}`);
        assert.ok(heads.length >= 5 && heads.every((e) => e.bytes === 0), `${id}: ${JSON.stringify(checked)}`);
        assert.deepEqual(
          requests(id, /\/init\.mp4$/).map((e) => e.method),
          ['GET'],
          `${id}: its initialization segment once, for the probe`,
        );
      }
      const probed = w.observations.flatMap((o) => (o.kind === 'probed' ? [[o.rendition, o.probed.codecs]] : []));
      assert.deepEqual(probed.sort(), [
        ['180p', ['h264']],
        ['96p', ['h264']],
        ['audio', ['aac']],
      ]);
      // Headers-only checks still measure each segment: its size from Content-Length, its time to the first byte.
      const headersOnly = w.observations.filter((o) => o.kind === 'segment' && o.check === 'headers');
      assert.ok(
        headersOnly.length >= 10 && headersOnly.every((o) => o.kind === 'segment' && o.bytes !== null && o.bytes > 0),
      );
    } finally {
      await w.stop();
    }
  });
});
