/**
 * The shipped corruption model through the analyzer as a user runs it (`streamqc analyze
 * --format jsonl`): a stream whose feed was damaged, concealed and re-encoded cleanly upstream
 * decodes without an error, and still gets a corruption event over the damage; the same
 * stream without damage gets none. Real ffmpeg, 6 s clips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../media/fixtures.js';
import { CLI_ARGV } from '../analyzer/run-cli.js';
import { parseJsonlEvents } from '../bench/accuracy/run-streamqc.js';
import { makeBakedClip, type BakedClipSpec } from '../training/corruption/baked.js';

const FPS = 25;

function spec(damage: BakedClipSpec['damage']): BakedClipSpec {
  return {
    origin: { kind: 'lavfi', graph: `testsrc2=s=640x360:r=${FPS}`, label: 'testsrc2' },
    damage,
    chain: [{ codec: 'h264', bitrate: '1000k' }],
    width: 640,
    height: 360,
    seconds: 6,
  };
}

/** The analyzer with the corruption detector switched on (it is opt-in), as a user runs it. */
async function analyze(file: string, config: string): Promise<ReturnType<typeof parseJsonlEvents>> {
  const run = await runCommand('node', [...CLI_ARGV, 'analyze', file, '--config', config, '--format', 'jsonl'], {
    timeoutMs: 120_000,
  });
  assert.equal(run.code, 0, run.stderr);
  return parseJsonlEvents(run.stdout.toString('utf8'));
}

test('baked corruption (packets 2 s..3 s of an H.264 feed damaged, concealed, re-encoded) is a corruption event over it; the clean stream has none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-corruption-'));
  try {
    const damaged = join(dir, 'damaged.ts');
    const clean = join(dir, 'clean.ts');
    await makeBakedClip(spec({ codec: 'h264', amount: 5_000, packets: [2 * FPS, 3 * FPS] }), damaged);
    await makeBakedClip(spec(null), clean);
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ detectors: { corruption: { enabled: true } } }));

    const found = await analyze(damaged, config);
    assert.equal(found.filter((e) => e.type === 'decode_error').length, 0, 'the delivered stream decodes cleanly');
    const corruption = found.filter((e) => e.type === 'corruption');
    assert.ok(corruption.length >= 1, `events: ${JSON.stringify(found)}`);
    // The damage lasts from 2 s to the next keyframe (GOP 2 s: 4 s).
    assert.ok(
      corruption.every((e) => e.start >= 1.9 && e.start < 4.2),
      `corruption events: ${JSON.stringify(corruption)}`,
    );

    const quiet = await analyze(clean, config);
    assert.deepEqual(
      quiet.filter((e) => e.type === 'corruption'),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
