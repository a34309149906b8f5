/**
 * The renditions that left a ladder: remembered as down until they return, at most
 * MAX_RENDITIONS of them (the oldest removal forgotten first), and a forgotten rendition's
 * metric series removed, so that names that come and go cannot grow the label cardinality.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { LadderHistory } from '../../analyzer/delivery/ladder-history.js';
import { MAX_RENDITIONS, type VariantDeclaration } from '../../analyzer/delivery/playlist.js';
import { DeliveryMetrics } from '../../analyzer/report/delivery-metrics.js';

function variant(name: string): VariantDeclaration {
  const height = 720;
  return {
    name,
    uri: `http://origin/${name}.m3u8`,
    bandwidth: 1_000_000,
    averageBandwidth: null,
    resolution: { width: 1280, height },
    codecs: 'avc1.42c00d',
    frameRate: 25,
  };
}

const at = (t: number): { t: number; wallclock: string } => ({
  t,
  wallclock: new Date(Date.UTC(2026, 0, 1) + t * 1000).toISOString(),
});

describe('the renditions that left the ladder', () => {
  it('a removed rendition is remembered since the load that first missed it, with its declaration, until it returns', () => {
    const history = new LadderHistory();
    assert.deepEqual(history.listed(at(0), [variant('720p'), variant('360p')]), { removed: [], forgotten: [] });
    assert.deepEqual(history.listed(at(1), [variant('720p')]), { removed: ['360p'], forgotten: [] });
    // Still missing on the next load: down since the first.
    assert.deepEqual(history.listed(at(2), [variant('720p')]), { removed: [], forgotten: [] });
    assert.deepEqual(
      history.removed.map((r) => [r.view.name, r.view.declared?.bandwidth, r.since.t, r.since.wallclock]),
      [['360p', 1_000_000, 1, '2026-01-01T00:00:01.000Z']],
    );
    history.listed(at(3), [variant('720p'), variant('360p')]);
    assert.deepEqual(history.removed, []);
  });

  it(`names that come and go (a new id every update): at most ${MAX_RENDITIONS} remembered, every series of a forgotten one removed`, async () => {
    const registry = new Registry();
    const metrics = new DeliveryMetrics(registry);
    const history = new LadderHistory();
    const stream = 's';
    const forgottenAll: string[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `rep-${i}`;
      metrics.renditionUp.set({ stream, rendition: name }, 1);
      metrics.segments.inc({ stream, rendition: name });
      metrics.segmentError(stream, name, '404');
      metrics.playlistError(stream, name, 'none');
      metrics.segmentBitrate.set({ stream, rendition: name }, 1000);
      const { removed, forgotten } = history.listed(at(i), [variant(name)]);
      for (const r of removed) metrics.removed(stream, r);
      for (const f of forgotten) metrics.forget(stream, f);
      forgottenAll.push(...forgotten);
    }
    // rep-39 is listed; the 16 removed before it are remembered; the 23 older ones forgotten, oldest first.
    assert.deepEqual(
      history.removed.map((r) => r.view.name),
      Array.from({ length: MAX_RENDITIONS }, (_, k) => `rep-${39 - MAX_RENDITIONS + k}`),
    );
    assert.deepEqual(
      forgottenAll,
      Array.from({ length: 39 - MAX_RENDITIONS }, (_, k) => `rep-${k}`),
    );
    const text = await registry.metrics();
    const names = new Set([...text.matchAll(/rendition="([^"]+)"/g)].map((m) => m[1]));
    assert.equal(names.size, MAX_RENDITIONS + 1, [...names].join(' '));
    assert.ok(!names.has('rep-0') && names.has('rep-23') && names.has('rep-39'));
    // A removed (remembered) rendition keeps its counters and down gauge, not its last segment's figures.
    assert.match(text, /streamqc_delivery_segment_errors_total\{stream="s",rendition="rep-30",code="404"\} 1/);
    assert.doesNotMatch(text, /streamqc_delivery_segment_bitrate_bits_per_second\{stream="s",rendition="rep-30"\}/);
    assert.match(text, /streamqc_delivery_segment_bitrate_bits_per_second\{stream="s",rendition="rep-39"\} 1000/);
  });
});
