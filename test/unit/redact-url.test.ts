import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { redactUrl, redactUrlsIn } from '../../analyzer/ingest/redact-url.js';

describe('URL redaction', () => {
  it('masks every query value of a signed CDN URL and keeps the names', () => {
    assert.equal(
      redactUrl('https://cdn.example/live/index.m3u8?Policy=eyJ&Signature=abc%2F&Key-Pair-Id=K2&hdnts=exp=1~hmac=ff'),
      'https://cdn.example/live/index.m3u8?Policy=***&Signature=***&Key-Pair-Id=***&hdnts=***',
    );
    assert.equal(
      redactUrl('https://s3.example/a.ts?X-Amz-Signature=deadbeef&token'),
      'https://s3.example/a.ts?X-Amz-Signature=***&***',
    );
  });

  it('masks userinfo and drops the fragment', () => {
    assert.equal(
      redactUrl('rtmp://alice:s3cret@ingest.example:1935/app/key#frag'),
      'rtmp://***@ingest.example:1935/app/key',
    );
    assert.equal(
      redactUrl('srt://127.0.0.1:9000?passphrase=hunter22&mode=caller'),
      'srt://127.0.0.1:9000?passphrase=***&mode=***',
    );
  });

  it('leaves a URL without secrets and a file path as they are', () => {
    assert.equal(redactUrl('udp://239.0.0.1:5000'), 'udp://239.0.0.1:5000');
    assert.equal(redactUrl('/media/clip.ts'), '/media/clip.ts');
  });

  it('finds URLs inside free text, such as an ffmpeg diagnostic', () => {
    assert.equal(
      redactUrlsIn("[hls @ 0x1] Opening 'https://cdn.example/seg-7.ts?token=abc123' for reading"),
      "[hls @ 0x1] Opening 'https://cdn.example/seg-7.ts?token=***' for reading",
    );
    assert.equal(redactUrlsIn('no url here'), 'no url here');
  });

  it('leaves the punctuation that follows a URL in the text', () => {
    assert.equal(
      redactUrlsIn('https://cdn.example/a.ts?token=abc: Connection refused.'),
      'https://cdn.example/a.ts?token=***: Connection refused.',
    );
    assert.equal(redactUrlsIn('(see rtmp://u:p@h/app/key).'), '(see rtmp://***@h/app/key).');
  });
});
