/**
 * Media and servers are untrusted: odd but legal audio, servers that lie or loop, children
 * killed under the analyzer, and inputs that name ffmpeg protocols. Each case ends with the
 * contract's exit code, a message naming the cause, and no child left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Analyzer } from '../../analyzer/pipeline.js';
import { defaultConfig } from '../../analyzer/config.js';
import { silentLogger } from '../../analyzer/report/log.js';
import { cachedMedia } from '../media/fixtures.js';
import { only, runCli } from './run-cli.js';

function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+\(.+:\d+:\d+\)/, `a stack trace leaked:\n${stderr}`);
}

/** 7 s of a -20 dBFS tone at `rate` Hz, silent from 2 s to 5 s. */
function toneWithGap(rate: number): Promise<string> {
  return cachedMedia(`tone-gap-${rate}`, 'wav', (out) => [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi',
    '-i', `aevalsrc=exprs='if(between(t,2,5),0,0.1*sin(2*PI*300*t))':s=${rate}:d=7`,
    '-c:a', 'pcm_s16le', '-y', out,
  ]);
}

/** 6 s of digital silence on 65 channels (lavfi cannot make more than 64: raw zeros can). */
function sixtyFiveChannels(withVideo: boolean): Promise<string> {
  const video = withVideo ? ['-f', 'lavfi', '-i', 'color=c=black:s=160x90:r=25:d=6'] : [];
  return cachedMedia(`silence-65ch${withVideo ? '-black' : ''}`, 'mkv', (out) => [
    '-hide_banner', '-loglevel', 'error', ...video,
    '-f', 's16le', '-ar', '48000', '-ac', '65', '-t', '6', '-i', '/dev/zero',
    ...(withVideo ? ['-c:v', 'ffv1'] : []), '-c:a', 'pcm_s16le', '-y', out,
  ]);
}

for (const rate of [2000, 4000, 1_000_000]) {
  test(`audio at ${rate} Hz is analysed: the 2-5 s gap is one silence event, exit 0`, { timeout: 60_000 }, async () => {
    const r = await runCli(['analyze', await toneWithGap(rate)]);
    assert.equal(r.code, 0, r.stderr);
    noStackTrace(r.stderr);
    const silence = only(r, 'silence');
    assert.ok(Math.abs(silence.start - 2) < 0.1 && Math.abs(silence.end - 5) < 0.1, JSON.stringify(silence));
  });
}

test('/status keeps the source format (2 kHz) and says what the meters measure (48 kHz)', { timeout: 60_000 }, async () => {
  const analyzer = new Analyzer(defaultConfig(), await toneWithGap(2000), { log: silentLogger() });
  const result = await analyzer.run();
  assert.equal(result.exitCode, 0, result.message ?? '');
  const status = analyzer.status();
  assert.equal(status.format.sampleRate, 2000);
  assert.equal(status.format.channels, 1);
  assert.deepEqual(status.analysis.audio, { sampleRate: 48000, channels: 1 });
});

test('65 audio channels beside video: the video is analysed, the audio refused with the reason, exit 0', { timeout: 60_000 }, async () => {
  const r = await runCli(['analyze', await sixtyFiveChannels(true)]);
  assert.equal(r.code, 0, r.stderr);
  noStackTrace(r.stderr);
  assert.match(r.stderr, /65 channels; at most 64 can be analysed/);
  assert.deepEqual(r.events.map((e) => e.type), ['black']);
});

test('65 audio channels and nothing else: exit 1 naming the channel count', { timeout: 60_000 }, async () => {
  const clip = await sixtyFiveChannels(false);
  const r = await runCli(['analyze', clip]);
  assert.equal(r.code, 1, r.stderr);
  noStackTrace(r.stderr);
  assert.match(r.stderr, /cannot analyze .*silence-65ch.*: its audio has 65 channels; at most 64 can be analysed/);
  assert.equal(r.stdout, '');
});
