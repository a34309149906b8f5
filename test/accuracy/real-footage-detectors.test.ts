/**
 * Blur, blockiness and freeze on real footage (issue 13): the findings a new user made on real
 * camera footage, each reproduced on clips cut together here from the cached real sources
 * (tuned sources only: city-night, a detailed night city; ball-throw, a dim room; the handheld
 * cockatoo; the dim CG film megamind; two screen recordings) and run through the CLI as a user
 * would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fetchRealFootage, REAL_SOURCES, type RealSource } from '../bench/accuracy/real-footage.js';
import { runCommand } from '../media/fixtures.js';
import { runCli, type CliResult } from '../analyzer/run-cli.js';

const FPS = 25;
/** city-night lasts 7.6 s at 25 fps; the cut to the next shot falls there. */
const CITY_SECONDS = 7.6;
const ENCODE = ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-pix_fmt', 'yuv420p', '-an'];

let dir = '';
let city = '';
let ball = '';
let cockatoo = '';
let megamind = '';
let gnome = '';
let hello = '';
let animation = '';

function source(id: string): RealSource {
  const s = REAL_SOURCES.find((x) => x.id === id);
  assert.ok(s, `real source ${id}`);
  assert.ok(!s.heldOut, `${id} is a tuned source`);
  return s;
}

before(async () => {
  const ids = [
    'city-night',
    'ball-throw',
    'cockatoo-handheld',
    'megamind-trailer',
    'gnome-dual-monitors',
    'hello-screencast',
    'cc-wanna-work-together',
  ];
  const files = await fetchRealFootage(undefined, ids.map(source));
  assert.equal(files.length, ids.length, 'every real source fetched');
  [city, ball, cockatoo, megamind, gnome, hello, animation] = files.map((f) => f.file) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  dir = mkdtempSync(join(tmpdir(), 'streamqc-real-detectors-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Encodes `graph` (inputs [0:v] city-night, [1:v] ball-throw unless `inputs` says otherwise;
 * output [v]) into dir/name.mp4 (or .ts, for MPEG-2).
 */
async function build(
  name: string,
  graph: string,
  encode: readonly string[],
  inputs: readonly string[] = [city, ball],
  extension = 'mp4',
): Promise<string> {
  const out = join(dir, `${name}.${extension}`);
  await runCommand(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...inputs.flatMap((i) => ['-i', i])].concat([
      '-filter_complex',
      graph,
      '-map',
      '[v]',
      ...encode,
      out,
    ]),
    { timeoutMs: 300_000, what: `building ${name}` },
  );
  return out;
}

async function analyze(file: string, config?: string): Promise<CliResult> {
  const result = await runCli(['analyze', file, '--format', 'jsonl', ...(config ? ['--config', config] : [])], 300_000);
  assert.equal(result.code, 0, result.stderr.slice(-2000));
  return result;
}

function eventsOf(result: CliResult, type: string): { start: number; end: number }[] {
  return result.events.filter((e) => e.type === type).map(({ start, end }) => ({ start, end }));
}

/** The freezes streamqc reports on `file` with the freeze options `options` (YAML flow mapping body). */
async function freezesWith(file: string, options: string): Promise<{ start: number; end: number }[]> {
  const config = join(dir, `freeze-${options.replace(/[^a-zA-Z0-9]+/g, '-')}.yaml`);
  writeFileSync(config, `detectors:\n  freeze: { ${options} }\n`);
  return eventsOf(await analyze(file, config), 'freeze');
}

/** The dim room at 960x540: 4:3 pictures pillarboxed to 16:9, as a broadcaster would. */
const ROOM = `scale=720:540,setsar=1,pad=960:540:120:0,fps=${FPS},format=yuv420p`;
const CITY = `scale=960:540,setsar=1,fps=${FPS},format=yuv420p`;

test('a cut from a detailed city shot to a dim room is no blur: the room is judged after the city as before it', async () => {
  // Room, city, room: the same room frames before and after the detailed shot.
  const clip = await build(
    'room-city-room',
    `[1:v]${ROOM},split[r1][r2];[0:v]${CITY}[c];[r1][c][r2]concat=n=3:v=1:a=0[v]`,
    [...ENCODE, '-crf', '20'],
  );
  const result = await analyze(clip);
  assert.deepEqual(eventsOf(result, 'blur'), []);
});

test('sigma 6 blur on the pillarboxed dim room after a cut from the city is one blur event, found within 1 s', async () => {
  // The room follows the city at 7.6 s; it is blurred from 5 s to 8 s into the room.
  const from = CITY_SECONDS + 5;
  const to = CITY_SECONDS + 8;
  const clip = await build(
    'city-room-blurred',
    `[0:v]${CITY}[c];[1:v]${ROOM},gblur=sigma=6:enable='between(t,5,8)'[r];[c][r]concat=n=2:v=1:a=0[v]`,
    [...ENCODE, '-crf', '20'],
  );
  const result = await analyze(clip);
  const blur = eventsOf(result, 'blur');
  assert.equal(blur.length, 1, JSON.stringify(blur));
  const [event] = blur;
  assert.ok(
    event && event.start >= from - 0.05 && event.start <= from + 1,
    `blur found at ${event?.start}, blurred from ${from}`,
  );
  assert.ok(Math.abs(event.end - to) <= 0.5, `blur ends at ${event.end}, sharp again from ${to}`);
});

test('a detailed city picture frozen across keyframes and refined by x264 is a freeze from its first frozen frame', async () => {
  // city-night played twice; frames 76 to 199 repeat frame 75: frozen from 3.0 s to 8.0 s,
  // across the keyframes at 2 s, 4 s and 6 s, encoded at a moderate 1 Mb/s.
  const clip = await build(
    'city-frozen',
    `[0:v]loop=loop=1:size=${Math.round(CITY_SECONDS * FPS)},scale=720:404,setsar=1,fps=${FPS},split[a][b];` +
      '[a][b]freezeframes=first=76:last=199:replace=75,format=yuv420p[v]',
    [...ENCODE, '-b:v', '1M'],
  );
  const result = await analyze(clip);
  const freeze = eventsOf(result, 'freeze');
  assert.equal(freeze.length, 1, JSON.stringify(freeze));
  const [event] = freeze;
  assert.ok(event && Math.abs(event.start - 3) <= 0.2, `freeze from ${event?.start}, frozen from 3.0`);
  assert.ok(Math.abs(event.end - 8) <= 0.2, `freeze ends at ${event.end}, moving again from 8.0`);
});

/** Any real picture at 960x540 and 25 fps, letter- or pillarboxed to keep its aspect. */
const FIT = `scale=960:540:force_original_aspect_ratio=decrease,pad=960:540:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${FPS},format=yuv420p`;

test('a fade from the detailed night city into the handheld bird, brighter and far softer, is no blur', async () => {
  // The film-and-camera programme's transition (detail 48 to 8, mean luma 81 to 109), which was
  // reported as blur for the bird's whole shot: a fade is no cut, so the city's baseline stayed.
  const clip = await build(
    'city-fade-cockatoo',
    `[0:v]${FIT}[c];[1:v]${FIT}[b];[c][b]xfade=transition=fade:duration=1:offset=${CITY_SECONDS - 1}[v]`,
    [...ENCODE, '-crf', '20'],
    [city, cockatoo],
  );
  const result = await analyze(clip);
  assert.deepEqual(eventsOf(result, 'blur'), []);
});

test('MPEG-2: the dim room after a fade from the dim CG film and after a cut from the night city is no blockiness', async () => {
  // The dark programme's two transitions into the room (MPEG-2 codes it at a blockiness of 1.35
  // to 1.49, the film at 1.15, the city at 1.02): both were reported blocky for the room's
  // whole length. Film 0-11.2 s, fade into the room to 20.4 s, cut to the city, cut to the room.
  const room = 10.2;
  const clip = await build(
    'film-fade-room-city-room',
    `[0:v]${FIT}[m];[1:v]${FIT},split[r1][r2];[2:v]${FIT}[c];` +
      `[m][r1]xfade=transition=fade:duration=1:offset=10.2[mr];[mr][c][r2]concat=n=3:v=1:a=0[v]`,
    ['-c:v', 'mpeg2video', '-q:v', '4', '-g', String(FPS), '-bf', '0', '-pix_fmt', 'yuv420p', '-an'],
    [megamind, ball, city],
    'ts',
  );
  const result = await analyze(clip);
  assert.deepEqual(eventsOf(result, 'blockiness'), [], `room ${room} s after each transition`);
});

/** Two screen recordings cut together at 25 fps: a settings dialog, then a terminal slide. */
async function screens(): Promise<string> {
  return build(
    'screens',
    `[0:v]${FIT}[g];[1:v]${FIT}[h];[g][h]concat=n=2:v=1:a=0[v]`,
    [...ENCODE, '-crf', '23'],
    [gnome, hello],
  );
}

test('screen recordings that hold still for seconds are still content: no freeze', async () => {
  // GNOME Settings (37 s: nothing changes for up to 7 s at a time) and a terminal slide; each
  // hold was a freeze before still content was told apart (they moved in 1 to 18% of their
  // frames in the 10 s before each hold).
  const result = await analyze(await screens());
  assert.deepEqual(eventsOf(result, 'freeze'), []);
});

test('with freeze.minPriorMotion 0 the same holds are judged, as freezedetect judges them', async () => {
  const freezes = await freezesWith(await screens(), 'minPriorMotion: 0');
  assert.ok(freezes.length >= 3, JSON.stringify(freezes));
});

/**
 * 12 s of the 2D animation (cc-wanna-work-together from 60 s, the interlaced programme's first
 * shot): bursts of motion between held drawings, one drawing held from 4.64 s to 7.52 s while
 * the music goes on.
 */
let heldDrawingsClip: Promise<string> | null = null;
function heldDrawings(): Promise<string> {
  heldDrawingsClip ??= build(
    'held-drawings',
    `[0:v]trim=start=60:duration=12,setpts=PTS-STARTPTS,${FIT}[v]`,
    [...ENCODE, '-crf', '20'],
    [animation],
  );
  return heldDrawingsClip;
}

test('a drawing held for 2.9 s in 2D animation that moves in bursts is held content: no freeze', async () => {
  const result = await analyze(await heldDrawings());
  assert.deepEqual(eventsOf(result, 'freeze'), []);
});

test('with freeze.heldMinDuration 2 the held drawing is judged like moving content: a freeze from 4.64 s', async () => {
  const freezes = await freezesWith(await heldDrawings(), 'heldMinDuration: 2');
  assert.equal(freezes.length, 1, JSON.stringify(freezes));
  assert.ok(Math.abs((freezes[0]?.start ?? 0) - 4.64) <= 0.2, JSON.stringify(freezes));
});

test('the flat colour fields the same animation settles on are no blur: their few edges stay sharp', async () => {
  // From 7.7 s the animation moves to flat fields: detail 5.4 down to 0.6 within one shot.
  const result = await analyze(await heldDrawings());
  assert.deepEqual(eventsOf(result, 'blur'), []);
});

test('judged on detail alone (blur.sharpnessRatio 1000) the flat fields read as blur', async () => {
  const config = join(dir, 'blur-detail-alone.yaml');
  writeFileSync(config, 'detectors:\n  blur: { sharpnessRatio: 1000 }\n');
  const blur = eventsOf(await analyze(await heldDrawings(), config), 'blur');
  assert.equal(blur.length, 1, JSON.stringify(blur));
});
