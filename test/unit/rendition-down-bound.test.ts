/**
 * rendition_down on a ladder whose names come and go (an MPD whose Representation ids change
 * with every update): each removal is an event, and at most MAX_RENDITIONS of them are active
 * at once, as /status keeps at most that many removed renditions; a return ends its own.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDetectors, defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import { MAX_RENDITIONS, type VariantDeclaration } from '../../analyzer/delivery/playlist.js';

function variant(name: string): VariantDeclaration {
  return {
    name,
    uri: `http://origin/${name}`,
    bandwidth: 1,
    averageBandwidth: null,
    resolution: null,
    codecs: null,
    frameRate: null,
  };
}

describe('rendition_down on names that come and go', () => {
  it(`40 removals: 40 events, never more than ${MAX_RENDITIONS} active, the oldest ended first`, () => {
    const started: DefectEvent[] = [];
    const ended: DefectEvent[] = [];
    const detector = createDetectors(defaultDetectorsConfig(), {
      started: (e) => started.push(e),
      ended: (e) => ended.push(e),
    }).find((d) => d.type === 'rendition_down');
    const onDelivery = detector?.onDelivery?.bind(detector);
    assert.ok(onDelivery);
    let mostActive = 0;
    for (let i = 0; i <= 40; i++) {
      onDelivery({ kind: 'ladder', t: i, variants: [variant('stable'), variant(`rep-${i}`)] });
      mostActive = Math.max(mostActive, started.length - ended.length);
    }
    assert.equal(started.length, 40);
    assert.ok(started.every((e) => e.detail?.reason === 'removed'));
    assert.equal(mostActive, MAX_RENDITIONS);
    assert.deepEqual(
      ended.map((e) => e.detail?.rendition),
      Array.from({ length: 40 - MAX_RENDITIONS }, (_, k) => `rep-${k}`),
    );
    // A remembered removal that returns ends at its return.
    onDelivery({ kind: 'ladder', t: 50, variants: [variant('stable'), variant('rep-39')] });
    assert.deepEqual([ended.at(-1)?.detail?.rendition, ended.at(-1)?.end], ['rep-39', 50]);
  });
});
