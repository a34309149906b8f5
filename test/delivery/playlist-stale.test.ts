/**
 * playlist_stale judges a reload that adds nothing as of when it was asked for: an answer that
 * arrives late (a busy analyzer, a loaded machine) is as fresh as its request, while a playlist
 * that truly stops is still found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDetectors, defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import type { DeliveryObservation } from '../../analyzer/delivery/observations.js';
import { parsePlaylist, type MediaPlaylistSnapshot } from '../../analyzer/delivery/playlist.js';

/** A live playlist of 1 s segments whose newest is `last`. */
function snapshot(last: number): MediaPlaylistSnapshot {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${last - 2}`];
  for (let msn = last - 2; msn <= last; msn++) lines.push('#EXTINF:1.000,', `seg-${msn}.ts`);
  const parsed = parsePlaylist(`${lines.join('\n')}\n`, 'http://origin/r/index.m3u8');
  assert.equal(parsed.kind, 'media');
  return parsed.snapshot;
}

function staleEvents(loads: { t: number; requestedAt: number; last: number }[]): DefectEvent[] {
  const started: DefectEvent[] = [];
  const detectors = createDetectors(defaultDetectorsConfig(), {
    started: (e) => started.push(e),
    ended: () => undefined,
  });
  const stale = detectors.find((d) => d.type === 'playlist_stale');
  const onDelivery = stale?.onDelivery?.bind(stale);
  assert.ok(onDelivery);
  let previous: MediaPlaylistSnapshot | null = null;
  for (const load of loads) {
    const now = snapshot(load.last);
    const newest = previous?.segments.at(-1)?.msn ?? -1;
    const added = now.segments.filter((s) => s.msn > newest);
    const o: DeliveryObservation = {
      kind: 'playlist',
      t: load.t,
      requestedAt: load.requestedAt,
      rendition: 'r',
      snapshot: now,
      previous,
      added,
    };
    onDelivery(o);
    previous = now;
  }
  return started.filter((e) => e.type === 'playlist_stale');
}

test('a reload asked for in time whose answer arrives 1.5 s late is no stale playlist', () => {
  // Advances at 0 s; the next reload, asked for at 1.0 s before the next segment, answers at 2.6 s.
  const events = staleEvents([
    { t: 0, requestedAt: 0, last: 10 },
    { t: 2.6, requestedAt: 1.0, last: 10 },
    { t: 3.0, requestedAt: 2.7, last: 12 },
  ]);
  assert.deepEqual(events, []);
});

test('a playlist that stops adding segments is stale from its last advance, however fast the answers', () => {
  const events = staleEvents([
    { t: 0, requestedAt: 0, last: 10 },
    { t: 1.0, requestedAt: 0.99, last: 10 },
    { t: 1.5, requestedAt: 1.49, last: 10 },
    { t: 2.0, requestedAt: 1.99, last: 10 },
    { t: 2.5, requestedAt: 2.49, last: 10 },
  ]);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.start, 0);
});
