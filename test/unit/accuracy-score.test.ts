/**
 * The accuracy bench's event matching and statistics (test/bench/accuracy/score.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FRAGMENT_GAP_SECONDS,
  matchClip,
  mergeFragments,
  onsetErrorStats,
  scoreAll,
  scoreType,
  TOLERANCES,
} from '../bench/accuracy/score.js';
import type { DefectEvent, DefectType } from '../bench/accuracy/types.js';

const ev = (type: DefectType, start: number, end: number): DefectEvent => ({ type, start, end });
const one = (events: DefectEvent[]): { clip: string; events: DefectEvent[] }[] => [{ clip: 'a', events }];

describe('matching', () => {
  test('a black event 0.5 s late matches with tolerance 0.5; 0.51 s late does not', () => {
    const truth = [ev('black', 10, 13)];
    assert.equal(matchClip('black', 'a', truth, [ev('black', 10.5, 13)], 0.5).matches.length, 1);
    const late = matchClip('black', 'a', truth, [ev('black', 10.51, 13)], 0.5);
    assert.equal(late.matches.length, 0);
    assert.deepEqual(late.misses, truth);
    assert.deepEqual(late.falsePositives, [ev('black', 10.51, 13)]);
  });

  test('an early onset counts by its absolute error', () => {
    const m = matchClip('black', 'a', [ev('black', 10, 13)], [ev('black', 9.6, 12)], 0.5);
    assert.equal(m.matches.length, 1);
    assert.ok(Math.abs(m.matches[0]!.onsetError - -0.4) < 1e-9);
  });

  test('intervals must overlap: a detection ending before the truth starts is no match', () => {
    // Onset error 0.3 s, within a 0.5 s tolerance, but [9.7, 9.9) lies before [10, 13).
    const m = matchClip('black', 'a', [ev('black', 10, 13)], [ev('black', 9.7, 9.9)], 0.5);
    assert.equal(m.matches.length, 0);
  });

  test('types must agree', () => {
    const m = matchClip('black', 'a', [ev('black', 10, 13)], [ev('freeze', 10, 13)], 0.5);
    assert.equal(m.matches.length, 0);
    assert.equal(m.misses.length, 1);
    assert.equal(m.falsePositives.length, 0, "another type is not this type's false positive");
  });

  test('one-to-one: two truth events and one detection give one match, closest onset first', () => {
    const m = matchClip(
      'loudness',
      'a',
      [ev('loudness', 10, 30), ev('loudness', 12, 30)],
      [ev('loudness', 11.5, 30)],
      4,
    );
    assert.equal(m.matches.length, 1);
    assert.equal(m.matches[0]!.truth.start, 12);
    assert.deepEqual(m.misses, [ev('loudness', 10, 30)]);
  });

  test('two separate detections of two truth events both match', () => {
    const m = matchClip(
      'black',
      'a',
      [ev('black', 5, 8), ev('black', 20, 23)],
      [ev('black', 20.1, 23), ev('black', 5, 8)],
      0.5,
    );
    assert.equal(m.matches.length, 2);
    assert.equal(m.misses.length + m.falsePositives.length, 0);
  });

  test(`fragments closer than ${FRAGMENT_GAP_SECONDS} s are one detection`, () => {
    const m = matchClip('freeze', 'a', [ev('freeze', 10, 16)], [ev('freeze', 10, 12.9), ev('freeze', 13.3, 16)], 2);
    assert.equal(m.matches.length, 1);
    assert.equal(m.falsePositives.length, 0);
    assert.deepEqual(m.matches[0]!.detected, ev('freeze', 10, 16));
    // 0.5 s apart: two events, the second a false positive.
    const apart = matchClip('freeze', 'a', [ev('freeze', 10, 16)], [ev('freeze', 10, 12.5), ev('freeze', 13, 16)], 2);
    assert.equal(apart.matches.length, 1);
    assert.equal(apart.falsePositives.length, 1);
  });

  test('merging fragments does not touch the events given', () => {
    const given = [ev('freeze', 0, 1), ev('freeze', 1.2, 2)];
    assert.deepEqual(mergeFragments(given), [ev('freeze', 0, 2)]);
    assert.deepEqual(given, [ev('freeze', 0, 1), ev('freeze', 1.2, 2)]);
  });

  test('instant events (format_change) match within the tolerance either way', () => {
    const tol = TOLERANCES.format_change.onsetSeconds;
    const truth = [ev('format_change', 15, 15)];
    assert.equal(matchClip('format_change', 'a', truth, [ev('format_change', 15.04, 15.04)], tol).matches.length, 1);
    assert.equal(
      matchClip('format_change', 'a', truth, [ev('format_change', 15 - tol, 15 - tol)], tol).matches.length,
      1,
    );
    assert.equal(
      matchClip('format_change', 'a', truth, [ev('format_change', 15 + tol + 0.01, 15 + tol + 0.01)], tol).matches
        .length,
      0,
    );
  });
});

describe("don't-care regions", () => {
  test('an unmatched decode_error inside a region is ignored, one outside is a false positive, a match still counts', () => {
    const region = [ev('decode_error', 9.5, 12)];
    const truth = [ev('decode_error', 20, 21)];
    const m = matchClip(
      'decode_error',
      'a',
      truth,
      [ev('decode_error', 10.2, 10.4), ev('decode_error', 15, 15.1), ev('decode_error', 20.1, 20.9)],
      1,
      region,
    );
    assert.deepEqual(m.ignored, [ev('decode_error', 10.2, 10.4)]);
    assert.deepEqual(m.falsePositives, [ev('decode_error', 15, 15.1)]);
    assert.equal(m.matches.length, 1);
    const score = scoreType(
      'decode_error',
      [{ clip: 'a', events: truth, dontCare: region }],
      one([ev('decode_error', 10.2, 10.4), ev('decode_error', 20.1, 20.9)]),
      1,
    );
    assert.equal(score.detectedEvents, 1, 'the ignored detection is not counted');
    assert.equal(score.precision, 1);
  });

  test('a region of another type excuses nothing', () => {
    const m = matchClip('blockiness', 'a', [], [ev('blockiness', 10, 11)], 1, [ev('decode_error', 9, 12)]);
    assert.deepEqual(m.falsePositives, [ev('blockiness', 10, 11)]);
    assert.deepEqual(m.ignored, []);
  });
});

describe('scores', () => {
  test('no truth and no detections: precision, recall and F1 are 1', () => {
    const s = scoreType('stall', one([]), one([]), 1.5);
    assert.deepEqual([s.precision, s.recall, s.f1], [1, 1, 1]);
    assert.ok(Number.isNaN(s.onsetErrorMean), 'no match: no onset statistics');
  });

  test('truth but no detections: precision 1 (no false claim), recall 0, F1 0', () => {
    const s = scoreType('black', one([ev('black', 1, 4)]), one([]), 0.5);
    assert.deepEqual([s.precision, s.recall, s.f1], [1, 0, 0]);
  });

  test('detections but no truth: precision 0, recall 1, F1 0', () => {
    const s = scoreType('black', one([]), one([ev('black', 1, 4)]), 0.5);
    assert.deepEqual([s.precision, s.recall, s.f1], [0, 1, 0]);
  });

  test('counts across clips: 3 of 4 truth found with one false positive', () => {
    const truth = [
      { clip: 'a', events: [ev('silence', 5, 8), ev('silence', 20, 23)] },
      { clip: 'b', events: [ev('silence', 5, 8), ev('silence', 20, 23)] },
    ];
    const detected = [
      { clip: 'a', events: [ev('silence', 5.1, 8), ev('silence', 20.2, 23)] },
      // Clip b: one found, one detected on the wrong clip's times.
      { clip: 'b', events: [ev('silence', 5, 8), ev('silence', 12, 14)] },
    ];
    const s = scoreType('silence', truth, detected, 0.5);
    assert.deepEqual([s.truthEvents, s.detectedEvents, s.truePositives], [4, 4, 3]);
    assert.equal(s.precision, 0.75);
    assert.equal(s.recall, 0.75);
    assert.equal(s.f1, 0.75);
  });

  test('scoreAll scores each type asked for, in order', () => {
    const s = scoreAll(['black', 'freeze'], one([ev('black', 1, 4)]), one([ev('black', 1, 4)]));
    assert.deepEqual(
      s.map((x) => x.type),
      ['black', 'freeze'],
    );
    assert.equal(s[0]!.f1, 1);
  });
});

describe('onset error statistics', () => {
  test('mean and median are signed, p95 and max are of |error|', () => {
    const errors = [-0.4, 0.1, 0.2, 0.3];
    const s = onsetErrorStats(errors);
    assert.ok(Math.abs(s.mean - 0.05) < 1e-12);
    assert.ok(Math.abs(s.median - 0.15) < 1e-12);
    assert.equal(s.maxAbs, 0.4);
    // |errors| sorted: 0.1 0.2 0.3 0.4; p95 interpolates at index 2.85.
    assert.ok(Math.abs(s.p95Abs - 0.385) < 1e-12);
  });

  test('scoreType reports the statistics of its matches', () => {
    const s = scoreType(
      'black',
      one([ev('black', 1, 4), ev('black', 10, 14)]),
      one([ev('black', 1.2, 4), ev('black', 9.9, 14)]),
      0.5,
    );
    assert.ok(Math.abs(s.onsetErrorMean - 0.05) < 1e-9);
    assert.ok(Math.abs(s.onsetErrorMaxAbs - 0.2) < 1e-9);
  });
});
