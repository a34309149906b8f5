/**
 * RepresentationTracks (analyzer/delivery/dash-tracks.ts): which rendition a DASH
 * Representation continues when a Period lists it under another @id.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RepresentationTracks, type TrackListing } from '../../analyzer/delivery/dash-tracks.js';

const video = (id: string, bandwidth: number): TrackListing => ({ id, contentType: 'video', bandwidth });
const audio = (id: string, bandwidth: number): TrackListing => ({ id, contentType: 'audio', bandwidth });

const PROGRAMME = [video('v1080', 6e6), video('v720', 3e6), video('v360', 8e5), audio('a128', 128e3)];
// The ad's ids say nothing of rank, and its audio is listed first.
const AD = [audio('x9', 96e3), video('x1', 4e5), video('x3', 5e6), video('x2', 1.5e6)];

function load(tracks: RepresentationTracks, periods: TrackListing[][]): string[][] {
  const assigned = tracks.assign(periods);
  assigned.commit();
  return assigned.tracks;
}

describe('DASH Representations across Periods', () => {
  test('a Representation is its own rendition in the first Period, and stays it in the next under the same id', () => {
    const tracks = new RepresentationTracks();
    assert.deepEqual(load(tracks, [PROGRAMME, PROGRAMME]), [
      ['v1080', 'v720', 'v360', 'a128'],
      ['v1080', 'v720', 'v360', 'a128'],
    ]);
  });

  test('an ad Period under ids of its own continues the renditions by content type and rank of bandwidth', () => {
    const tracks = new RepresentationTracks();
    assert.deepEqual(load(tracks, [PROGRAMME, AD])[1], ['a128', 'v360', 'v1080', 'v720']);
  });

  test('the matches hold once the programme has left the window, and the programme returns to its own renditions', () => {
    const tracks = new RepresentationTracks();
    load(tracks, [PROGRAMME]);
    load(tracks, [PROGRAMME, AD]);
    assert.deepEqual(load(tracks, [AD]), [['a128', 'v360', 'v1080', 'v720']]);
    assert.deepEqual(load(tracks, [AD, PROGRAMME])[1], ['v1080', 'v720', 'v360', 'a128']);
    // The ad's ids have left the MPD: a later ad under the same ids is matched afresh, by rank.
    load(tracks, [PROGRAMME]);
    const swapped = [video('x3', 1e5), video('x1', 9e6)];
    assert.deepEqual(load(tracks, [PROGRAMME, swapped])[1], ['v720', 'v1080']);
  });

  test('a Period with more Representations than the one before adds renditions under their own ids; one with fewer leaves the rest unlisted', () => {
    const tracks = new RepresentationTracks();
    const wider = [video('w1', 9e6), video('w2', 6e6), video('w3', 3e6), video('w4', 1e6), video('v1080', 5e5)];
    // v1080 keeps its rendition; the four new ones take the free v720 and v360 by rank, then their own.
    assert.deepEqual(load(tracks, [PROGRAMME, wider])[1], ['v720', 'v360', 'w3', 'w4', 'v1080']);
    const narrow = [video('n1', 2e6)];
    assert.deepEqual(load(tracks, [wider, narrow])[1], ['v720']);
  });

  test('a new id never takes the name of another rendition listed in the same Period', () => {
    const tracks = new RepresentationTracks();
    load(tracks, [PROGRAMME, AD]);
    load(tracks, [AD]); // the programme's ids have left the MPD; x2 still carries the rendition v720
    // A Period adds a fifth Representation under the id 'v720' with no free rendition left.
    const more = [...AD, video('v720', 1e5)];
    assert.deepEqual(load(tracks, [AD, more])[1], ['a128', 'v360', 'v1080', 'v720', 'v720_2']);
  });

  test('an MPD that is not committed leaves the matches as they were', () => {
    const tracks = new RepresentationTracks();
    tracks.assign([[video('first', 1e6)]]); // parsed, then refused: never committed
    // Had it been kept, 'next' would continue the rendition 'first'.
    assert.deepEqual(load(tracks, [[video('next', 2e6)]]), [['next']]);
    const kept = new RepresentationTracks();
    load(kept, [[video('first', 1e6)]]);
    assert.deepEqual(load(kept, [[video('next', 2e6)]]), [['first']]);
  });
});
