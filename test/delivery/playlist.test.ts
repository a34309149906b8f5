/** Playlists as the delivery checks read them (analyzer/delivery/playlist.ts, parsing by hls-parser). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlaylist, PlaylistError } from '../../analyzer/delivery/playlist.js';

const BASE = 'http://origin.test/live/index.m3u8';

describe('parsePlaylist', () => {
  it('a fragmented-MP4 media playlist (EXT-X-MAP) says its segments need an initialization section', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:10',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXTINF:2.000,',
      'seg10.m4s',
      '',
    ].join('\n');
    const parsed = parsePlaylist(text, BASE);
    const snapshot = parsed.kind === 'media' ? parsed.snapshot : assert.fail('not read as a media playlist');
    assert.equal(snapshot.initSection, true);
    assert.deepEqual(
      snapshot.segments.map((s) => [s.msn, s.uri]),
      [[10, 'http://origin.test/live/seg10.m4s']],
    );
  });

  it('an MPEG-TS media playlist needs none', () => {
    const text = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXTINF:2.000,', 'seg0.ts', ''].join('\n');
    const parsed = parsePlaylist(text, BASE);
    assert.equal(parsed.kind === 'media' && parsed.snapshot.initSection, false);
  });

  it('what is no playlist is refused naming the URL and why', () => {
    assert.throws(
      () => parsePlaylist('<html>not found</html>', BASE),
      (err: unknown) =>
        err instanceof PlaylistError &&
        err.message === `${BASE} is not an HLS playlist: it does not start with #EXTM3U`,
    );
    assert.throws(
      () => parsePlaylist('#EXTM3U\n#EXTINF:2.000,\nseg0.ts\n', BASE),
      /EXT-X-TARGETDURATION is missing or not positive/,
    );
  });
});
