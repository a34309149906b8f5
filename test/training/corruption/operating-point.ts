/**
 * `node dist/test/training/corruption/operating-point.js`: how the corruption detector's
 * defaults fare across operating points. The shipped model's maps on the tuned sources' 4 s
 * clips (train.ts's clips and the grainy and hazy ones of dataset.ts: never the held-out source), read the way the analyzer reads them (every `stride`-th
 * frame, largest connected region of cells at or above a cell probability, the verdict held in
 * between, runs of at least minDuration), scored as evaluate.ts scores the held-out clips, for
 * a grid of cell probabilities and minArea values. Prints event precision, recall and the
 * negative clips that raised anything.
 */
import { fileURLToPath } from 'node:url';
import { corruptionOptions } from '../../../analyzer/detectors/corruption.js';
import { CORRUPTION_CELL } from '../../../analyzer/features/corruption-graph.js';
import model from '../../../analyzer/features/corruption-model.json' with { type: 'json' };
import { largestCorruptedRegion } from '../../../analyzer/features/corruption.js';
import { fetchRealFootage, tunedSources } from '../../bench/accuracy/real-footage.js';
import type { BakedClip } from './baked.js';
import {
  CORRUPTED_CELL_DIFF,
  SYNTHETIC_ORIGINS,
  cachedBakedClip,
  clipSpecs,
  corruptionMaps,
  harderSpecs,
  openModelSession,
  realOrigins,
  type LabelledSpec,
} from './dataset.js';
import { runsOf, tally, type ClipOutcome } from './evaluate.js';
import { TRUE_FRAME_AREA, areaOver } from './scoring.js';
import { TRAIN_SEED } from './train.js';

const PROBABILITIES = [0.2, 0.3, 0.4, 0.5, 0.7];
const MIN_AREAS = [0.005, 0.01, 0.02, 0.03, 0.05];

interface Judged {
  clip: BakedClip<LabelledSpec>;
  /** Judged frame index to its probability map. */
  maps: Map<number, Float32Array>;
}

/** The detector's events for one operating point (the black and flat-picture rule aside: these clips have neither). */
function outcome({ clip, maps }: Judged, probability: number, minArea: number): ClipOutcome {
  const minDuration = corruptionOptions.minDuration.default;
  const cols = Math.floor(clip.width / CORRUPTION_CELL);
  const corrupted: boolean[] = [];
  let verdict = false;
  for (let i = 0; i < clip.frames.length; i++) {
    const map = maps.get(i);
    if (map) verdict = largestCorruptedRegion(map, cols, probability) >= minArea;
    corrupted.push(verdict);
  }
  const area = (i: number): number => areaOver(clip.damage[i] ?? new Float32Array(0), CORRUPTED_CELL_DIFF);
  const long = (s: { start: number; end: number }): boolean => s.end - s.start >= minDuration - 1e-9;
  return {
    spec: clip.spec,
    truth: runsOf(clip.frames.length, (i) => area(i) >= TRUE_FRAME_AREA).filter(long),
    damaged: runsOf(clip.frames.length, (i) => area(i) > 0),
    model: runsOf(clip.frames.length, (i) => corrupted[i] ?? false).filter(long),
    blockdetect: [],
  };
}

async function main(): Promise<void> {
  const files = await fetchRealFootage(undefined, tunedSources());
  const origins = [...realOrigins(files, 4), ...SYNTHETIC_ORIGINS];
  const specs = [...clipSpecs(origins, TRAIN_SEED, 3, 4), ...harderSpecs(origins, TRAIN_SEED + 1)];
  const session = await openModelSession(model);
  const stride = corruptionOptions.stride.default;
  const judged: Judged[] = [];
  for (const spec of specs) {
    const clip = await cachedBakedClip(spec);
    const indices: number[] = [];
    for (let i = 0; i < clip.frames.length; i += stride) indices.push(i);
    const maps = await corruptionMaps(session, clip, indices);
    judged.push({ clip, maps: new Map(indices.map((f, k) => [f, maps[k] ?? new Float32Array(0)])) });
  }
  await session.release();
  console.log('| cell probability | minArea | event P | event R | negative clips with events | F1 |');
  console.log('|---|---|---|---|---|---|');
  for (const probability of PROBABILITIES) {
    for (const minArea of MIN_AREAS) {
      const outcomes = judged.map((j) => outcome(j, probability, minArea));
      const t = tally(outcomes, 'model');
      const p = t.events === 0 ? 1 : t.right / t.events;
      const r = t.truths === 0 ? 1 : t.found / t.truths;
      const negatives = outcomes.filter((o) => o.spec.kind !== 'baked');
      const fired = negatives.filter((o) => o.model.length > 0).length;
      const f1 = p + r === 0 ? 0 : (2 * p * r) / (p + r);
      console.log(
        `| ${probability} | ${minArea} | ${p.toFixed(2)} | ${r.toFixed(2)} (${t.found}/${t.truths}) | ${fired}/${negatives.length} | ${f1.toFixed(3)} |`,
      );
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
