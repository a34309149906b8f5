import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseSource, redact, SourceError } from '../../analyzer/ingest/source-url.js';

describe('what a source shows of itself', () => {
  it('display masks query values and userinfo; ffmpeg keeps the real URL', () => {
    const url = 'https://bob:pw@cdn.example/live/index.m3u8?token=SECRET123&X-Amz-Signature=abc';
    const source = parseSource(url);
    assert.equal(source.input, url);
    assert.equal(source.display, 'https://***@cdn.example/live/index.m3u8?token=***&X-Amz-Signature=***');
    assert.equal(parseSource('/media/a?b=c.ts').display, '/media/a?b=c.ts', 'a file path is not a URL');
  });

  it('an invalid URL is named in its masked form', () => {
    assert.throws(
      () => parseSource('http://[::1/live?token=SECRET123'),
      (err: unknown) => {
        assert.ok(err instanceof SourceError);
        assert.equal(err.message, 'INPUT "http://[::1/live?token=***" is not a valid URL');
        return true;
      },
    );
  });

  it('redact masks the input and every other URL ffmpeg prints', () => {
    const source = parseSource('http://127.0.0.1:8080/index.m3u8?token=SECRET123');
    assert.equal(
      redact(
        "http://127.0.0.1:8080/index.m3u8?token=SECRET123 Unable to open key file http://127.0.0.1:8080/key?token=SECRET123&sig=k 'crypto+http://127.0.0.1:8080/s.ts?hdnts=exp=1~hmac=ff'",
        source,
      ),
      "http://127.0.0.1:8080/index.m3u8?token=*** Unable to open key file http://127.0.0.1:8080/key?token=***&sig=*** 'crypto+http://127.0.0.1:8080/s.ts?hdnts=***'",
    );
  });
});
