/**
 * ladder_misaligned judges the renditions that advance: one whose playlist stopped is
 * playlist_stale, and its sequence numbers falling behind the ladder is that one fault, not a
 * second; one that advances but names other moments than the ladder is misaligned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDetectors, defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import { parsePlaylist, type MediaPlaylistSnapshot } from '../../analyzer/delivery/playlist.js';

/** A live playlist of 1 s segments whose newest is `last`. */
function snapshot(name: string, last: number): MediaPlaylistSnapshot {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${last - 2}`];
  for (let msn = last - 2; msn <= last; msn++) lines.push('#EXTINF:1.000,', `seg-${msn}.ts`);
  const parsed = parsePlaylist(`${lines.join('\n')}\n`, `http://origin/${name}/index.m3u8`);
  assert.equal(parsed.kind, 'media');
  return parsed.snapshot;
}

/** 30 s of reloads, one per rendition per second; `lastOf` says each rendition's newest segment at second `s`. */
function ladderEvents(lastOf: (rendition: string, s: number) => number): DefectEvent[] {
  const started: DefectEvent[] = [];
  const detectors = createDetectors(defaultDetectorsConfig(), {
    started: (e) => started.push(e),
    ended: () => undefined,
  });
  const previous = new Map<string, MediaPlaylistSnapshot>();
  for (let s = 0; s < 30; s++) {
    for (const [i, rendition] of ['r0', 'r1', 'r2'].entries()) {
      const t = s + i * 0.1;
      const now = snapshot(rendition, lastOf(rendition, s));
      const before = previous.get(rendition) ?? null;
      const newest = before?.segments.at(-1)?.msn ?? -1;
      const added = now.segments.filter((seg) => seg.msn > newest);
      for (const d of detectors) {
        d.onDelivery?.({ kind: 'playlist', t, requestedAt: t, rendition, snapshot: now, previous: before, added });
      }
      previous.set(rendition, now);
    }
  }
  return started;
}

test('a rendition whose playlist stops is playlist_stale only, not also misaligned as it falls behind', () => {
  const events = ladderEvents((r, s) => (r === 'r1' ? Math.min(100 + s, 105) : 100 + s));
  assert.deepEqual(
    events.map((e) => [e.type, e.detail?.rendition]),
    [['playlist_stale', 'r1']],
  );
});

test('a rendition that advances three segments behind the ladder is ladder_misaligned', () => {
  const events = ladderEvents((r, s) => (r === 'r1' ? 97 + s : 100 + s));
  const misaligned = events.filter((e) => e.type === 'ladder_misaligned');
  assert.equal(misaligned.length, 1, JSON.stringify(events));
  assert.deepEqual([misaligned[0]?.detail?.rendition, misaligned[0]?.detail?.kind], ['r1', 'sequence']);
  assert.deepEqual(
    events.filter((e) => e.type !== 'ladder_misaligned'),
    [],
  );
});
