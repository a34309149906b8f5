/**
 * The accuracy corpus: its recipes cover what the benchmark promises, and the ground truth
 * written beside a clip is what an independent measurement of the produced file finds, to
 * the frame (video) or to a few milliseconds (audio, which AAC smears by about one frame).
 * Clips are built at 320x180 with their full schedule, so the check is quick but the same
 * builder and timings are exercised as in the full corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  buildClip,
  corpusRecipes,
  recipeProblems,
  reducedRecipe,
  streamStartTimes,
  truthOf,
  truthPathOf,
  type CorpusRecipe,
} from '../bench/accuracy/corpus.js';
import type { CorpusClip, DefectEvent, DefectType } from '../bench/accuracy/types.js';
import { runCommand } from '../media/fixtures.js';

const SMALL = { width: 320, height: 180 };
const RATE = 48000;
const BLOCK = 480; // 10 ms audio blocks for measurement

function recipeNamed(name: string): CorpusRecipe {
  const r = corpusRecipes().find((x) => x.name === name);
  assert.ok(r, `recipe ${name} exists`);
  return r;
}

async function decode(args: string[]): Promise<Buffer> {
  return (
    await runCommand('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args, '-'], {
      timeoutMs: 600_000,
      what: 'decoding',
    })
  ).stdout;
}

async function probe(args: string[]): Promise<string> {
  return (
    await runCommand('ffprobe', ['-v', 'error', ...args], { what: `ffprobe on ${args.join(' ')}` })
  ).stdout.toString();
}

/** Luma planes (nominal range) of every decoded frame, in order; frame i is at i / fps. */
async function lumaFrames(clip: CorpusClip, sync: 'passthrough' | 'cfr' = 'passthrough'): Promise<Uint8Array[]> {
  // cfr (for damaged streams): a frame the decoder drops is filled by its predecessor, so frame i stays at i / fps.
  const raw = await decode(['-i', clip.path, '-map', '0:v', '-vsync', sync, '-pix_fmt', 'yuv420p', '-f', 'rawvideo']);
  const { width: w, height: h } = clip;
  const frameBytes = (w * h * 3) / 2;
  const frames: Uint8Array[] = [];
  for (let o = 0; o + frameBytes <= raw.length; o += frameBytes) frames.push(raw.subarray(o, o + w * h));
  assert.equal(frames.length, clip.duration * clip.fps, `${clip.name}: every frame decodes`);
  return frames;
}

/** Share of pixels at or under blackdetect's default level (nominal Y <= 37). */
function darkShare(y: Uint8Array): number {
  let dark = 0;
  for (const v of y) if (v <= 37) dark++;
  return dark / y.length;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** Detail: mean absolute 4-neighbour Laplacian of the luma. */
function detail(y: Uint8Array, w: number, h: number): number {
  let sum = 0;
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      sum += Math.abs(4 * y[i]! - y[i - 1]! - y[i + 1]! - y[i - w]! - y[i + w]!);
    }
  }
  return sum / ((w - 2) * (h - 2));
}

interface AudioBlocks {
  /** Seconds of block k's start on the clip's timeline (first video frame = 0). */
  timeOf(k: number): number;
  peakDb: number[];
  rmsDb: number[];
  fullScale: number[];
}

/** Decoded audio in 10 ms blocks, placed on the video's timeline by the streams' start times. */
async function audioBlocks(clip: CorpusClip): Promise<AudioBlocks> {
  const starts = await streamStartTimes(clip.path);
  const raw = await decode(['-i', clip.path, '-map', '0:a', '-ac', '2', '-ar', String(RATE), '-f', 'f32le']);
  const samples = new Float32Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 4));
  const blocks: AudioBlocks = {
    timeOf: (k) => starts.audio - starts.video + (k * BLOCK) / RATE,
    peakDb: [],
    rmsDb: [],
    fullScale: [],
  };
  for (let o = 0; o + 2 * BLOCK <= samples.length; o += 2 * BLOCK) {
    let peak = 0;
    let energy = 0;
    let full = 0;
    for (let i = o; i < o + 2 * BLOCK; i++) {
      const a = Math.abs(samples[i]!);
      peak = Math.max(peak, a);
      energy += a * a;
      if (a >= 0.891) full++; // -1 dBFS, the clip level: AAC ripples saturated samples around full scale
    }
    blocks.peakDb.push(20 * Math.log10(peak));
    blocks.rmsDb.push(10 * Math.log10(energy / (2 * BLOCK)));
    blocks.fullScale.push(full);
  }
  return blocks;
}

/** Indices of audio blocks lying wholly inside [from, to). */
function blocksWithin(a: AudioBlocks, from: number, to: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < a.peakDb.length; k++) if (a.timeOf(k) >= from && a.timeOf(k) + BLOCK / RATE <= to) out.push(k);
  return out;
}

function truthOfType(clip: CorpusClip, type: DefectType): [DefectEvent, ...DefectEvent[]] {
  const [first, ...rest] = clip.truth.filter((e) => e.type === type);
  assert.ok(first, `${clip.name} has ${type} truth`);
  return [first, ...rest];
}

const frameOf = (clip: CorpusClip, t: number): number => Math.round(t * clip.fps);

// AAC smears an edge over about one 1024-sample frame; measure just outside that.
const EDGE = 0.03;

test('the recipes cover the benchmark: 24+ clips, 1080p, codecs, containers, live clips, clean clips, enough events per type', () => {
  const recipes = corpusRecipes();
  assert.deepEqual(recipes.flatMap(recipeProblems), [], 'every recipe is injectable and unambiguous');
  assert.ok(recipes.length >= 24, `${recipes.length} clips`);
  assert.equal(new Set(recipes.map((r) => r.name)).size, recipes.length, 'names are unique');
  assert.ok(recipes.filter((r) => r.height === 1080).length >= 3, 'at least 3 clips at 1080p');
  assert.ok(
    recipes.every((r) => r.height >= 480 && r.height <= 1080),
    'all between 480p and 1080p',
  );
  assert.ok(new Set(recipes.map((r) => r.codec)).size >= 2, 'more than one codec');
  assert.deepEqual(new Set(recipes.map((r) => r.container)), new Set(['mpegts', 'mp4', 'hls']));
  const live = recipes.filter((r) => r.mode === 'live');
  assert.ok(live.length >= 3 && live.every((r) => r.container === 'mpegts'), 'at least 3 live MPEG-TS clips');
  const minutes = recipes.reduce((s, r) => s + r.duration, 0) / 60;
  assert.ok(minutes <= 16, `${minutes.toFixed(1)} minutes of media`);
  assert.ok(
    recipes.every((r) => r.duration >= 30 && r.duration <= 40),
    'clips last 30-40 s',
  );

  const truth = recipes.flatMap(truthOf);
  const count = (type: DefectType): number => truth.filter((e) => e.type === type).length;
  for (const type of ['black', 'freeze', 'silence'] as const)
    assert.ok(count(type) >= 6, `${type}: ${count(type)} events`);
  for (const type of [
    'loudness',
    'clipping',
    'blockiness',
    'decode_error',
    'blur',
    'av_sync',
    'format_change',
    'stall',
  ] as const) {
    assert.ok(count(type) >= 4, `${type}: ${count(type)} events`);
  }
  assert.ok(recipes.filter((r) => truthOf(r).length === 0).length >= 3, 'at least 3 clean clips');
  for (const r of live) {
    const stalls = truthOf(r).filter((e) => e.type === 'stall');
    assert.deepEqual(
      stalls.map((e) => [e.start, e.end]),
      r.outages.map((o) => [o.start, o.end]),
      `${r.name}: a stall covers each outage`,
    );
  }
  const loud = recipes.flatMap((r) => r.injections).filter((i) => i.type === 'quiet' || i.type === 'loud');
  assert.ok(
    loud.every((i) => i.end - i.start >= 12),
    "loudness steps outlast the detector's 10 s",
  );
  assert.ok(loud.some((i) => i.type === 'loud') && loud.some((i) => i.type === 'quiet'), 'loudness jumps both ways');
  assert.ok(
    recipes.some(
      (r) =>
        r.gopSeconds >= 5 &&
        r.injections.some(
          (i) => i.type === 'freeze' && Math.floor(i.start / r.gopSeconds) < Math.floor((i.end - 1e-9) / r.gopSeconds),
        ),
    ),
    'a long-GOP clip freezes across a keyframe',
  );
});

test(
  'black, freeze and silence truth match the decoded picture and sound to the frame',
  { timeout: 60_000 },
  async () => {
    const clip = await buildClip(reducedRecipe(recipeNamed('testsrc2-720p-h264-ts-black-freeze-silence'), SMALL));
    assert.ok(existsSync(truthPathOf(clip)), 'truth written beside the clip');
    assert.deepEqual(JSON.parse(readFileSync(truthPathOf(clip), 'utf8')), clip);
    const frames = await lumaFrames(clip);

    const [black] = truthOfType(clip, 'black');
    const [b0, b1] = [frameOf(clip, black.start), frameOf(clip, black.end)];
    for (let i = b0; i < b1; i++) assert.ok(darkShare(frames[i]!) >= 0.98, `frame ${i} is black`);
    assert.ok(
      darkShare(frames[b0 - 1]!) < 0.98 && darkShare(frames[b1]!) < 0.98,
      'the frames around the black are not',
    );

    const [freeze] = truthOfType(clip, 'freeze');
    const [f0, f1] = [frameOf(clip, freeze.start), frameOf(clip, freeze.end)];
    // Keyframes re-encode the still picture (GOP 1 s), so "unchanged" allows a little coding noise.
    for (let i = f0 + 1; i < f1; i++)
      assert.ok(meanAbsDiff(frames[i]!, frames[i - 1]!) < 0.5, `frame ${i} repeats the one before`);
    assert.ok(meanAbsDiff(frames[f0]!, frames[f0 - 1]!) > 1, 'the frozen picture is a new picture when it first shows');
    assert.ok(meanAbsDiff(frames[f1]!, frames[f1 - 1]!) > 1, 'the picture moves again at the truth end');

    const audio = await audioBlocks(clip);
    const [silence] = truthOfType(clip, 'silence');
    const inside = blocksWithin(audio, silence.start + EDGE, silence.end - EDGE);
    assert.ok(inside.length > 250 && inside.every((k) => audio.peakDb[k]! < -60), 'silent inside the truth window');
    for (const [from, to] of [
      [silence.start - 1, silence.start - EDGE],
      [silence.end + EDGE, silence.end + 1],
    ] as const) {
      assert.ok(
        blocksWithin(audio, from, to).every((k) => audio.peakDb[k]! > -30),
        `sound just outside the window (${from}-${to} s)`,
      );
    }
  },
);

test(
  'corruption truth is the damaged GOP: frames differ from a clean encode exactly there; clipping is where the samples saturate',
  { timeout: 60_000 },
  async () => {
    const recipe = reducedRecipe(recipeNamed('cellauto-540p-mpeg2-ts-corrupt-freeze-silence-clipping'), SMALL);
    const clip = await buildClip(recipe);
    const clean = await buildClip({
      ...recipe,
      name: `${recipe.name}-undamaged`,
      injections: recipe.injections.filter((i) => i.type !== 'corrupt'),
    });
    const [damaged, reference] = [await lumaFrames(clip, 'cfr'), await lumaFrames(clean)];
    const [blocky] = truthOfType(clip, 'blockiness');
    const [decodeError] = truthOfType(clip, 'decode_error');
    assert.deepEqual([decodeError.start, decodeError.end], [blocky.start, blocky.end]);
    const [c0, c1] = [frameOf(clip, blocky.start), frameOf(clip, blocky.end)];
    for (let i = 0; i < damaged.length; i++) {
      const d = meanAbsDiff(damaged[i]!, reference[i]!);
      if (i < c0 || i >= c1) assert.equal(d, 0, `frame ${i} outside the damaged GOP is untouched`);
      else if (i === c0) assert.ok(d > 0.5, `the first damaged frame ${i} is damaged (${d})`);
    }
    const hurt = Array.from({ length: c1 - c0 }, (_, k) => meanAbsDiff(damaged[c0 + k]!, reference[c0 + k]!)).filter(
      (d) => d > 0.5,
    ).length;
    assert.ok(hurt >= 0.9 * (c1 - c0), `damage lasts to the next keyframe: ${hurt}/${c1 - c0} frames`);

    const audio = await audioBlocks(clip);
    const [clipping] = truthOfType(clip, 'clipping');
    const inside = blocksWithin(audio, clipping.start + EDGE, clipping.end - EDGE);
    assert.ok(
      inside.length > 90 && inside.every((k) => audio.fullScale[k]! >= 3),
      'saturated samples throughout the window',
    );
    const around = [
      ...blocksWithin(audio, clipping.start - 2, clipping.start - EDGE),
      ...blocksWithin(audio, clipping.end + EDGE, clipping.end + 2),
    ];
    assert.ok(
      around.every((k) => audio.fullScale[k] === 0),
      'none around it',
    );
  },
);

test(
  'blur and loudness truth: detail collapses exactly on the blurred frames, the level steps -20 dB exactly in the window (MP4)',
  { timeout: 60_000 },
  async () => {
    const clip = await buildClip(reducedRecipe(recipeNamed('testsrc2-1080p-h264-mp4-quiet-clipping-blur'), SMALL));
    const frames = await lumaFrames(clip);
    const [blur] = truthOfType(clip, 'blur');
    const [u0, u1] = [frameOf(clip, blur.start), frameOf(clip, blur.end)];
    const sharp = detail(frames[u0 - clip.fps]!, clip.width, clip.height);
    for (let i = u0; i < u1; i++)
      assert.ok(detail(frames[i]!, clip.width, clip.height) < 0.4 * sharp, `frame ${i} lost its detail`);
    for (const i of [u0 - 1, u1])
      assert.ok(detail(frames[i]!, clip.width, clip.height) > 0.8 * sharp, `frame ${i} is sharp`);

    const audio = await audioBlocks(clip);
    const [loudness] = truthOfType(clip, 'loudness');
    const mean = (ks: number[]): number => ks.reduce((s, k) => s + audio.rmsDb[k]!, 0) / ks.length;
    const before = mean(blocksWithin(audio, loudness.start - 1, loudness.start - EDGE));
    const during = mean(blocksWithin(audio, loudness.start + EDGE, loudness.end - EDGE));
    const after = mean(blocksWithin(audio, loudness.end + EDGE, loudness.end + 1));
    assert.ok(Math.abs(during - before + 20) < 2, `a -20 dB step: ${before.toFixed(1)} -> ${during.toFixed(1)} dB`);
    assert.ok(Math.abs(after - before) < 2, `and back: ${after.toFixed(1)} dB`);
    const edge = (t: number): number =>
      mean(blocksWithin(audio, t - EDGE - 0.05, t - EDGE)) - mean(blocksWithin(audio, t + EDGE, t + EDGE + 0.05));
    assert.ok(edge(loudness.start) > 10 && edge(loudness.end) < -10, 'the level changes at the truth boundaries');
  },
);

test(
  'format_change truth is the first frame of the new size; the timeline runs on across the join',
  { timeout: 60_000 },
  async () => {
    const clip = await buildClip(reducedRecipe(recipeNamed('testsrc2-720p-h264-ts-black-resize'), SMALL));
    const rows = (
      await probe(['-select_streams', 'v', '-show_entries', 'frame=pts_time,width', '-of', 'csv=p=0', clip.path])
    )
      .trim()
      .split('\n')
      .map((l) => l.split(',').slice(0, 2).map(Number))
      .filter((r): r is [number, number] => r.length === 2 && r.every(Number.isFinite));
    const [firstRow] = rows;
    assert.ok(firstRow, 'ffprobe lists the frames');
    const [first, firstWidth] = firstRow;
    const changed = rows.find(([, width]) => width !== firstWidth);
    assert.ok(changed, 'the frame size changes');
    const [truth] = truthOfType(clip, 'format_change');
    assert.ok(
      Math.abs(changed[0] - first - truth.start) < 1e-3,
      `new size from ${changed[0] - first} s, truth ${truth.start}`,
    );
    assert.ok(Math.abs(truth.end - truth.start - 1 / clip.fps) < 1e-9, 'an instant: one frame');
    rows.forEach(
      (r, i) =>
        i > 0 && assert.ok(Math.abs(r[0] - rows[i - 1]![0] - 1 / clip.fps) < 1e-3, `frame ${i} follows the one before`),
    );
    const starts = await streamStartTimes(clip.path);
    assert.ok(
      Math.abs(starts.video - starts.audio - 1024 / RATE) < 1e-3,
      'audio begins with the AAC encoder delay, as in a single encode',
    );
  },
);

test(
  'av_sync truth is where audio timestamps jump by the offset and where they jump back',
  { timeout: 60_000 },
  async () => {
    const clip = await buildClip(reducedRecipe(recipeNamed('bars-720p-h264-ts-avsync-black'), SMALL));
    const recipe = recipeNamed('bars-720p-h264-ts-avsync-black');
    const shift = recipe.avOffset?.seconds ?? 0;
    const starts = await streamStartTimes(clip.path);
    const pts = (await probe(['-select_streams', 'a', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', clip.path]))
      .trim()
      .split('\n')
      .map((l) => l.replace(/,$/, '').trim())
      .filter((l) => /^[0-9.]+$/.test(l))
      .map(Number);
    const frame = 1024 / RATE; // one AAC frame per PES packet in A/V offset clips
    const jumps = pts
      .slice(1)
      .map((p, i) => ({ at: p, by: p - pts[i]! - frame }))
      .filter((j) => Math.abs(j.by) > 1e-3);
    assert.equal(jumps.length, 2, JSON.stringify(jumps));
    const onset = jumps[0]!;
    const back = jumps[1]!;
    const [truth] = truthOfType(clip, 'av_sync');
    // A packet's programme time is its PTS less the shift it carries.
    assert.ok(
      Math.abs(onset.by - shift) < 1e-3 && Math.abs(onset.at - shift - starts.video - truth.start) < 1e-3,
      `offset starts at ${truth.start}: ${JSON.stringify(onset)}`,
    );
    assert.ok(
      Math.abs(back.by + shift) < 1e-3 && Math.abs(back.at - starts.video - truth.end) < 1e-3,
      `and ends at ${truth.end}: ${JSON.stringify(back)}`,
    );
  },
);

test(
  'near misses stay near misses: speech pauses and a -45 dBFS passage are not silence, a dim picture is not black',
  { timeout: 60_000 },
  async () => {
    for (const name of ['mandel-540p-hevc-mp4-clean', 'darkgrain-540p-mpeg2-ts-clean-hush']) {
      const clip = await buildClip(reducedRecipe(recipeNamed(name), SMALL));
      assert.deepEqual(clip.truth, [], `${name} is clean`);
      const audio = await audioBlocks(clip);
      let run = 0;
      let longest = 0;
      for (const p of audio.peakDb) {
        run = p < -60 ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      assert.ok((longest * BLOCK) / RATE < 0.2, `${name}: no stretch below -60 dBFS (longest ${longest * 10} ms)`);
      const quietest = Math.min(...audio.peakDb.slice(10));
      assert.ok(quietest < -40, `${name}: it does get quiet (${quietest.toFixed(1)} dBFS)`);
      const frames = await lumaFrames(clip);
      assert.ok(
        frames.every((f) => darkShare(f) < 0.98),
        `${name}: no frame is black`,
      );
    }
  },
);

test('an HLS clip is a VOD playlist with its segments, the whole schedule long', { timeout: 60_000 }, async () => {
  const clip = await buildClip(reducedRecipe(recipeNamed('testsrc2-480p-h264-hls-corrupt-silence-clipping'), SMALL));
  const playlist = readFileSync(clip.path, 'utf8');
  assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(playlist, /#EXT-X-ENDLIST/);
  const segments = playlist.split('\n').filter((l) => l.endsWith('.ts'));
  assert.ok(
    segments.length >= 6 && segments.every((s) => readdirSync(dirname(clip.path)).includes(s)),
    'segments beside the playlist',
  );
  const frames = await lumaFrames(clip);
  assert.equal(frames.length, clip.duration * clip.fps);
});
