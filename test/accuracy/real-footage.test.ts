/**
 * Detection on real footage (issue 13), in `npm test`: a short real set (under a minute of
 * media, cut from clips in small Debian packages, about 20 MB to download once) with defects
 * injected at known frames, and a short clean real programme. It asserts what streamqc gets
 * right on real footage today, so a change that breaks it on real pictures and sounds fails
 * here and not only in `npm run bench`; what it still gets wrong is written down, as failing
 * tests, in real-footage-known-gaps.test.ts.txt.
 *
 * The clips are fetched (real-footage.ts: `apt-get download`, which needs `apt-get update` to
 * have run once and dpkg-deb; scripts/setup.sh sees to both) and built in the set-up, cached
 * like the rest of the corpus.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRealCorpus, type Passage, type RealProgramme } from '../bench/accuracy/real-corpus.js';
import { runStreamqc } from '../bench/accuracy/run-streamqc.js';
import { matchClip, TOLERANCES } from '../bench/accuracy/score.js';
import type { CorpusClip, DefectType, ToolRun } from '../bench/accuracy/types.js';

const R360 = { width: 640, height: 360 };
const SPEECH: Passage[] = ['0870', '0890', '0920'].map((n) => ({ source: `speech-librivox-${n}` }));

/**
 * From python-nbsphinx-doc (1906 film, 160p), python3-imageio (handheld bird), python3-mecavideo
 * (dark room), openboard-common (2D animation), amoebax-data (music)
 * and pocketsphinx-testdata (read speech): 72 s in all.
 */
const SHORT_REAL_SET: RealProgramme[] = [
  {
    name: 'real-short-calais-cockatoo-360p-h264-ts-black-silence',
    content: '1906 film upscaled, cut to a handheld bird; music',
    ...R360,
    duration: 20,
    shots: [{ source: 'calais-1906', seconds: 10 }, { source: 'cockatoo-handheld' }],
    sound: [{ source: 'music-mr-bones' }],
    injections: [
      { type: 'black', start: 5, end: 8 },
      { type: 'silence', start: 13, end: 16 },
    ],
  },
  {
    name: 'real-short-ball-cockatoo-360p-h264-ts-quiet',
    content: 'dark room, cut to a handheld bird; read speech 20 dB down for 12 s',
    ...R360,
    duration: 22,
    shots: [{ source: 'ball-throw' }, { source: 'cockatoo-handheld' }],
    sound: SPEECH,
    injections: [{ type: 'quiet', start: 5, end: 17 }],
  },
  {
    name: 'real-short-clean-360p-h264-ts',
    content: 'clean: handheld bird, fade to a dark room, cut to a 1906 film; music',
    ...R360,
    duration: 16,
    shots: [
      { source: 'cockatoo-handheld', seconds: 6 },
      { source: 'ball-throw', seconds: 6, join: 'fade' },
      { source: 'calais-1906', seconds: 6 },
    ],
    sound: [{ source: 'music-menu' }],
  },
  {
    // The stretch of the bench's clean interlaced programme (53.6 s in) that read 1.3 s of
    // false blockiness: a detailed screen scrolls away to a flat one, with no cut.
    name: 'real-short-clean-interlaced-540p-h264-ts',
    content: 'clean: 2D animation woven into interlaced frames, a flat screen scrolling in; music',
    width: 960,
    height: 540,
    duration: 14,
    interlaced: true,
    shots: [{ source: 'cc-wanna-work-together', from: 104, seconds: 14 }],
    sound: [{ source: 'music-mr-bones' }],
  },
];

const clips = new Map<string, CorpusClip>();
const runs = new Map<string, ToolRun>();

before(async () => {
  for (const clip of await generateRealCorpus({ programmes: SHORT_REAL_SET })) {
    clips.set(clip.name, clip);
    runs.set(clip.name, await runStreamqc(clip));
  }
});

function clipNamed(name: string): CorpusClip {
  const clip = clips.get(name);
  assert.ok(clip, `clip ${name} was built`);
  return clip;
}

/** streamqc's events of `type` on a clip against its truth, matched as the benchmark matches them. */
function match(name: string, type: DefectType): ReturnType<typeof matchClip> {
  const clip = clipNamed(name);
  const run = runs.get(name);
  assert.ok(run, `streamqc ran on ${name}`);
  return matchClip(type, name, clip.truth, run.events, TOLERANCES[type].onsetSeconds);
}

/** Every truth event of `type` found, nothing else of that type reported, onsets within `maxOnset` s. */
function assertFound(name: string, type: DefectType, maxOnset: number): void {
  const m = match(name, type);
  const said = `${name} ${type}: ${JSON.stringify(m)}`;
  assert.ok(m.matches.length > 0, `${name} has ${type} truth`);
  assert.deepEqual(m.misses, [], `no miss: ${said}`);
  assert.deepEqual(m.falsePositives, [], `no false alarm: ${said}`);
  for (const p of m.matches) assert.ok(Math.abs(p.onsetError) <= maxOnset, `onset within ${maxOnset} s: ${said}`);
}

test('the short real set is real footage from tuned sources, with its clean programme marked clean', () => {
  for (const p of SHORT_REAL_SET) {
    const clip = clipNamed(p.name);
    assert.equal(clip.real?.split, 'tuned');
    assert.equal(clip.real.clean, (p.injections ?? []).length === 0);
  }
});

test('black over a real film and a handheld camera is found at its first frame', () => {
  assertFound('real-short-calais-cockatoo-360p-h264-ts-black-silence', 'black', 0.1);
});

test('silence cut into real music is found at its onset', () => {
  assertFound('real-short-calais-cockatoo-360p-h264-ts-black-silence', 'silence', 0.2);
});

test('real speech 20 dB too quiet is a loudness event within the short-term window', () => {
  assertFound('real-short-ball-cockatoo-360p-h264-ts-quiet', 'loudness', 3);
});

// Blockiness too: the dark room after the fade read blocky against the bird's baseline until the
// baseline restarted at fades (SceneWatch) and flat frames stopped being judged.
test('clean real programmes (a cut and a fade; a flat screen scrolling in, interlaced) raise no black, freeze, blur, blockiness, silence, loudness, clipping or decode alarm', () => {
  const types = [
    'black',
    'freeze',
    'blur',
    'blockiness',
    'silence',
    'loudness',
    'clipping',
    'decode_error',
    'stall',
    'av_sync',
  ] as const;
  for (const name of ['real-short-clean-360p-h264-ts', 'real-short-clean-interlaced-540p-h264-ts']) {
    for (const type of types) {
      assert.deepEqual(match(name, type).falsePositives, [], `${name}: no ${type}`);
    }
  }
});
