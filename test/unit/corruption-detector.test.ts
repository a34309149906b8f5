/**
 * The corruption detector's rule over the model's corrupted area: a frame counts from minArea,
 * frames the model skipped keep the last verdict, and a run must last minDuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corruptionOptions, createCorruptionDetector } from '../../analyzer/detectors/corruption.js';
import type { DefectEvent } from '../../analyzer/detectors/detector.js';
import { defaultsOf } from '../../analyzer/options.js';

const FPS = 25;
const FEATURES = { meanLuma: 128, darkRatio: 0, diff: 1, detail: 10, blockiness: 1 };

/** Feeds `seconds` of frames; the model measures every third frame, with `area(t)`. */
function run(seconds: number, area: (t: number) => number): DefectEvent[] {
  const ended: DefectEvent[] = [];
  const detector = createCorruptionDetector(defaultsOf(corruptionOptions), {
    started: () => undefined,
    ended: (e) => ended.push(e),
  });
  for (let i = 0; i < seconds * FPS; i++) {
    const t = i / FPS;
    detector.onVideo?.({ t, duration: 1 / FPS, features: FEATURES, corruption: i % 3 === 0 ? area(t) : Number.NaN });
  }
  detector.flush(seconds);
  return ended;
}

test('10% of the picture corrupted from 2.0 s to 3.2 s, measured every third frame, is one corruption event from 2.04 s to 3.24 s', () => {
  const events = run(5, (t) => (t >= 2 - 1e-9 && t < 3.2 - 1e-9 ? 0.1 : 0));
  assert.equal(events.length, 1, JSON.stringify(events));
  const [event] = events;
  // Measured frames are 0, 3, 6...: the first one inside is 2.04 s (frame 51), the first after 3.24 s (frame 81).
  assert.ok(Math.abs(event!.start - 2.04) < 1e-6, JSON.stringify(event));
  assert.ok(Math.abs((event!.end ?? 0) - 3.24) < 1e-6, JSON.stringify(event));
  assert.equal(event!.detail?.area, 0.1);
});

test('corruption shorter than minDuration (0.24 s) or under minArea (half of it) is not an event', () => {
  assert.deepEqual(
    run(5, (t) => (t >= 2 - 1e-9 && t < 2.24 - 1e-9 ? 0.5 : 0)),
    [],
  );
  assert.deepEqual(
    run(5, () => corruptionOptions.minArea.default / 2),
    [],
  );
});

test('a black picture is not judged: the model calling all of it corrupted raises nothing', () => {
  const ended: DefectEvent[] = [];
  const detector = createCorruptionDetector(defaultsOf(corruptionOptions), {
    started: () => undefined,
    ended: (e) => ended.push(e),
  });
  const black = { ...FEATURES, meanLuma: 2, darkRatio: 1, detail: 0 };
  for (let i = 0; i < 3 * FPS; i++)
    detector.onVideo?.({ t: i / FPS, duration: 1 / FPS, features: black, corruption: 1 });
  detector.flush(3);
  assert.deepEqual(ended, []);
});
