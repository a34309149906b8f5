import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchCount, scoreChecks, type Marker } from '../bench/transport-score.js';

const m = (check: string, t: number, pid: number | null = null): Marker => ({ check, t, pid });

describe('transport bench scoring', () => {
  it('matches one finding per truth, of the same check and PID, within the tolerance, nearest first', () => {
    const truth = [m('continuity_count_error', 1, 256), m('continuity_count_error', 1.05, 256)];
    const found = [m('continuity_count_error', 1.04, 256), m('continuity_count_error', 1.3, 256)];
    assert.equal(matchCount(truth, found, 0.1), 1, 'one finding cannot match two truths; 1.3 s is too far');
    assert.equal(matchCount([m('pts_error', 2, 257)], [m('pts_error', 2, 256)], 0.1), 0, 'another PID');
    assert.equal(matchCount([m('pat_error', 2)], [m('pat_error', 2.05, 0)], 0.1), 1, 'a truth without PID takes any');
    assert.equal(matchCount([m('crc_error', 2)], [m('pat_error', 2)], 0.1), 0, 'another check');
  });

  it('sums per check over scenarios: precision over findings, recall over truths, 1 when there is nothing to judge', () => {
    const scores = scoreChecks([
      { truth: [m('transport_error', 1), m('transport_error', 2)], found: [m('transport_error', 1)] },
      { truth: [m('cue_out', 3)], found: [m('cue_out', 3.01), m('crc_error', 4)] },
      { truth: [], found: [] },
    ]);
    assert.deepEqual(scores, [
      { check: 'crc_error', truth: 0, found: 1, matched: 0, precision: 0, recall: 1 },
      { check: 'cue_out', truth: 1, found: 1, matched: 1, precision: 1, recall: 1 },
      { check: 'transport_error', truth: 2, found: 1, matched: 1, precision: 1, recall: 0.5 },
    ]);
  });
});
