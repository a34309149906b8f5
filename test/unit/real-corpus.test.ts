/**
 * The real-footage corpus's recipes (real-corpus.ts), without building anything: splits, the
 * shots' timeline, and the ffmpeg arguments the shared builder gets for real files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ffmpegArgs } from '../bench/accuracy/corpus.js';
import {
  cleanProgrammes,
  defectProgrammes,
  programmeRecipe,
  realCorpusRecipes,
  shotTimes,
  type RealProgramme,
} from '../bench/accuracy/real-corpus.js';

const base: RealProgramme = {
  name: 'p',
  content: 'test',
  width: 640,
  height: 360,
  duration: 20,
  shots: [{ source: 'ball-throw' }, { source: 'cockatoo-handheld', join: 'fade' }],
  sound: [{ source: 'music-menu' }],
};

test('at least ten minutes of clean real programmes from tuned sources, and a clean held-out one', () => {
  const clean = realCorpusRecipes('/cache').filter((r) => r.real?.clean);
  const tuned = clean.filter((r) => r.real?.split === 'tuned').reduce((s, r) => s + r.duration, 0);
  assert.ok(tuned >= 600, `${tuned} s`);
  assert.ok(clean.some((r) => r.real?.split === 'held-out'));
  assert.ok(clean.every((r) => r.injections.length === 0));
});

test('every real clip carries its split: held-out exactly when made of the held-out source', () => {
  for (const p of [...cleanProgrammes(), ...defectProgrammes()]) {
    const r = programmeRecipe(p, '/cache');
    assert.equal(r.real?.split, p.name.includes('heldout') ? 'held-out' : 'tuned', p.name);
    assert.equal(r.real.sources.includes('diver-underwater'), r.real.split === 'held-out', p.name);
  }
});

test('a programme mixing the held-out source with tuned ones is refused', () => {
  assert.throws(
    () => programmeRecipe({ ...base, shots: [...base.shots, { source: 'diver-underwater' }] }, '/cache'),
    /mixes the held-out source/,
  );
});

test('a programme whose shots are shorter than its duration is refused', () => {
  assert.throws(() => programmeRecipe({ ...base, duration: 30 }, '/cache'), /shots last 23\.2 s, less than 30 s/);
});

test('shot times: a cut starts a shot where the last ended, a fade one second earlier', () => {
  assert.deepEqual(shotTimes({ shots: [...base.shots, { source: 'calais-1906', seconds: 5 }] }), [
    { source: 'ball-throw', start: 0, end: 10.2, join: 'first' },
    { source: 'cockatoo-handheld', start: 9.2, end: 23.2, join: 'fade' },
    { source: 'calais-1906', start: 23.2, end: 28.2, join: 'cut' },
  ]);
});

test('the builder reads looped real files, fades with xfade, and weaves interlaced pictures', () => {
  const [args] = ffmpegArgs(programmeRecipe({ ...base, interlaced: true }, '/cache'), 'OUT');
  assert.ok(args);
  const text = args.join(' ');
  assert.match(text, /-stream_loop -1 -i \/cache\/ball-throw\.mp4 -stream_loop -1 -i \/cache\/cockatoo-handheld\.mp4/);
  assert.match(text, /xfade=transition=fade:duration=1:offset=9\.200/);
  assert.match(text, /tinterlace=mode=interleave_top,setfield=tff/);
  assert.match(text, /-flags \+ildct\+ilme/);
  // Music measured at -13.2 LUFS, brought to -23.
  assert.match(text, /volume=-9\.8dB\[passage0\]/);
});

test('damaged packets: one byte in 2000 by default, denser where a programme asks', () => {
  const corrupt = { ...base, injections: [{ type: 'corrupt' as const, start: 6, end: 7 }] };
  const flat = (p: RealProgramme): string => (ffmpegArgs(programmeRecipe(p, '/cache'), 'OUT')[0] ?? []).join(' ');
  assert.match(flat(corrupt), /noise=amount='if\(between\(n,150,174\),2000,0\)'/);
  assert.match(flat({ ...corrupt, corruptionRate: 300 }), /noise=amount='if\(between\(n,150,174\),300,0\)'/);
});
