/**
 * The EBU Mode conformance signals, synthesised sample by sample as the tables define them:
 * EBU Tech 3341 v4 (2016) Table 1 "minimum requirements test signals" cases 1-6 and 9-23, and
 * EBU Tech 3342 v4 (2016) Table 1 cases 1-4, each with the readings and tolerances of the table.
 * Not here: Tech 3341 cases 7 and 8 and Tech 3342 cases 5 and 6, which are authentic programme
 * (the EBU ships them as recordings; they cannot be synthesised).
 *
 * Conventions of both tables: a level in dBFS is the sine's peak (a 0 dBFS 1 kHz sine in one
 * channel reads -3.01 LUFS, so a stereo sine at -23 dBFS reads -23.0 LUFS); "stereo" is the same
 * signal in phase in both channels; every tone is 1 kHz at 48 kHz. All timings used here are whole
 * milliseconds, so every segment holds whole 1 kHz periods and starts at phase 0.
 *
 * Where the tables name a set of files rather than spell out the signal (3341 cases 10, 11, 13, 14
 * and 20-23), the construction below is the one the EBU test set's files have and that public
 * reproductions agree on (phonometry's tests, libebur128 and loudness_validator's test lists):
 * it is marked "construction" in each case's comment.
 */
import { writeFileSync } from 'node:fs';

export const EBU_RATE_HZ = 48000;
const TONE_HZ = 1000;

/** Tech 3341: +/-0.1 LU for every momentary, short-term and integrated reading. */
export const LOUDNESS_TOLERANCE_LU = 0.1;
/** Tech 3342: +/-1 LU for the loudness range. */
export const RANGE_TOLERANCE_LU = 1;
/** Tech 3341: a true peak may read 0.4 dB under or 0.2 dB over. */
export const TRUE_PEAK_TOLERANCE_DB = { below: 0.4, above: 0.2 } as const;

/** Channel layouts of the signals, in the order the analyzer's decoder emits them. */
export type EbuLayout = 'stereo' | '5.0' | '5.1';

export const LAYOUT_CHANNELS: Readonly<Record<EbuLayout, number>> = { stereo: 2, '5.0': 5, '5.1': 6 };

/**
 * What a table row expects. Every field is optional: a row names only the readings it checks.
 * Loudness values are LUFS (LU for the range), true peak dBTP.
 */
export interface EbuExpectation {
  /** M at every update once `constantAfterSeconds.momentary` of signal have played (default: once M exists). */
  momentaryLufs?: number;
  /** S at every update once `constantAfterSeconds.shortTerm` have played (default: once S exists). */
  shortTermLufs?: number;
  constantAfterSeconds?: { momentary?: number; shortTerm?: number };
  /** Gated integrated loudness of the whole signal. */
  integratedLufs?: number;
  /** Tech 3342 loudness range of the whole signal. */
  loudnessRangeLu?: number;
  /** Highest momentary loudness of the whole signal. */
  maxMomentaryLufs?: number;
  /** Highest short-term loudness of the whole signal. */
  maxShortTermLufs?: number;
  /**
   * "Successive values": the signal is `values.length` equal segments of `segmentSeconds`, and the
   * highest reading within segment k is values[k].
   */
  successiveMaxMomentary?: { segmentSeconds: number; values: number[] };
  successiveMaxShortTerm?: { segmentSeconds: number; values: number[] };
  /** Highest true peak over all channels of the whole signal. */
  maxTruePeakDbtp?: number;
}

export interface EbuCase {
  /** "3341-13-7": document, case, and the file number for cases made of 20 files. */
  id: string;
  /** Table row, in words, for test names and reports. */
  title: string;
  sampleRate: number;
  layout: EbuLayout;
  expect: EbuExpectation;
  /** Synthesises the signal, one Float32Array per channel (a fresh copy each call). */
  synthesise(): Float32Array[];
}

export function dbfsToAmplitude(dbfs: number): number {
  return Math.pow(10, dbfs / 20);
}

/** A stretch of 1 kHz tone at a peak level in dBFS; null is digital silence. */
interface Segment {
  dbfs: number | null;
  seconds: number;
}

/** Whole samples in `seconds` at `rate`; every duration in the tables is a whole number of samples at 48 kHz. */
function samplesIn(seconds: number, rate: number): number {
  return Math.round(seconds * rate);
}

/** A mono 1 kHz tone through consecutive segments; the phase runs on from the first sample. */
function toneSegments(segments: readonly Segment[], rate = EBU_RATE_HZ): Float32Array {
  const total = segments.reduce((n, s) => n + samplesIn(s.seconds, rate), 0);
  const out = new Float32Array(total);
  const omega = (2 * Math.PI * TONE_HZ) / rate;
  let n = 0;
  for (const { dbfs, seconds } of segments) {
    const end = n + samplesIn(seconds, rate);
    if (dbfs === null) {
      n = end;
      continue;
    }
    const amplitude = dbfsToAmplitude(dbfs);
    for (; n < end; n++) out[n] = amplitude * Math.sin(omega * n);
  }
  return out;
}

function stereo(mono: Float32Array): Float32Array[] {
  return [mono, mono.slice()];
}

function repeat(times: number, pattern: readonly Segment[]): Segment[] {
  return Array.from({ length: times }, () => pattern).flat();
}

/** A sine of `amplitude` (full scale 1) at `frequency` and starting phase, for `seconds`. */
function sine(rate: number, frequency: number, amplitude: number, phaseDegrees: number, seconds: number): Float32Array {
  const out = new Float32Array(samplesIn(seconds, rate));
  const omega = (2 * Math.PI * frequency) / rate;
  const phase = (phaseDegrees * Math.PI) / 180;
  for (let n = 0; n < out.length; n++) out[n] = amplitude * Math.sin(omega * n + phase);
  return out;
}

/**
 * Raised-cosine fade-in and fade-out of `seconds` at both ends. A sine switched on at a non-zero
 * phase is a step, and any band-limited interpolator rings on a step (up to 0.7 dB over the
 * sine's peak at fs/8): the true-peak rows describe steady sines, so their ends are faded.
 */
function fadeEnds(x: Float32Array, rate: number, seconds = 0.01): Float32Array {
  const n = samplesIn(seconds, rate);
  for (let i = 0; i < n; i++) {
    const g = 0.5 - 0.5 * Math.cos((Math.PI * i) / n);
    x[i] = (x[i] ?? 0) * g;
    const j = x.length - 1 - i;
    x[j] = (x[j] ?? 0) * g;
  }
  return x;
}

function toneCase(id: string, title: string, segments: readonly Segment[], expect: EbuExpectation): EbuCase {
  return {
    id,
    title,
    sampleRate: EBU_RATE_HZ,
    layout: 'stereo',
    expect,
    synthesise: () => stereo(toneSegments(segments)),
  };
}

const STEPS_11_14 = Array.from({ length: 20 }, (_, k) => -38 + k);

/** EBU Tech 3341 v4 Table 1, loudness rows (cases 1-6, 9-14). */
function tech3341LoudnessCases(): EbuCase[] {
  const cases: EbuCase[] = [
    // Table 1 row 1: stereo sine 1 kHz, -23 dBFS, 20 s. Expected M, S, I = -23.0 +/-0.1 LUFS.
    toneCase('3341-1', 'stereo 1 kHz at -23 dBFS for 20 s: M, S, I = -23.0', [{ dbfs: -23, seconds: 20 }], {
      momentaryLufs: -23,
      shortTermLufs: -23,
      integratedLufs: -23,
      maxMomentaryLufs: -23,
      maxShortTermLufs: -23,
    }),
    // Row 2: stereo sine 1 kHz, -33 dBFS, 20 s. Expected M, S, I = -33.0 +/-0.1 LUFS.
    toneCase('3341-2', 'stereo 1 kHz at -33 dBFS for 20 s: M, S, I = -33.0', [{ dbfs: -33, seconds: 20 }], {
      momentaryLufs: -33,
      shortTermLufs: -33,
      integratedLufs: -33,
      maxMomentaryLufs: -33,
      maxShortTermLufs: -33,
    }),
    // Row 3: -36 dBFS 10 s, -23 dBFS 60 s, -36 dBFS 10 s. Expected I = -23.0 +/-0.1 (relative gate).
    toneCase(
      '3341-3',
      '-36 / -23 / -36 dBFS for 10 / 60 / 10 s: I = -23.0 (relative gate)',
      [
        { dbfs: -36, seconds: 10 },
        { dbfs: -23, seconds: 60 },
        { dbfs: -36, seconds: 10 },
      ],
      { integratedLufs: -23 },
    ),
    // Row 4: -72 / -36 / -23 / -36 / -72 dBFS for 10 / 10 / 60 / 10 / 10 s. Expected I = -23.0 +/-0.1.
    toneCase(
      '3341-4',
      '-72 / -36 / -23 / -36 / -72 dBFS for 10 / 10 / 60 / 10 / 10 s: I = -23.0 (both gates)',
      [
        { dbfs: -72, seconds: 10 },
        { dbfs: -36, seconds: 10 },
        { dbfs: -23, seconds: 60 },
        { dbfs: -36, seconds: 10 },
        { dbfs: -72, seconds: 10 },
      ],
      { integratedLufs: -23 },
    ),
    // Row 5: -26 dBFS 20 s, -20 dBFS 20.1 s, -26 dBFS 20 s. Expected I = -23.0 +/-0.1.
    toneCase(
      '3341-5',
      '-26 / -20 / -26 dBFS for 20 / 20.1 / 20 s: I = -23.0',
      [
        { dbfs: -26, seconds: 20 },
        { dbfs: -20, seconds: 20.1 },
        { dbfs: -26, seconds: 20 },
      ],
      { integratedLufs: -23 },
    ),
    // Row 6: 5.0 channels, 1 kHz, 20 s: L and R -28 dBFS, C -24 dBFS, Ls and Rs -30 dBFS.
    // Expected I = -23.0 +/-0.1 (the surrounds weigh 1.41, +1.5 dB).
    {
      id: '3341-6',
      title: '5.0 sine: L, R -28, C -24, Ls, Rs -30 dBFS for 20 s: I = -23.0 (channel weights)',
      sampleRate: EBU_RATE_HZ,
      layout: '5.0',
      expect: { integratedLufs: -23 },
      synthesise: () => [-28, -28, -24, -30, -30].map((dbfs) => toneSegments([{ dbfs, seconds: 20 }])),
    },
    // Row 6 as the EBU test set also ships it: six channels (seq-3341-6-6channels-WAVEEX) with a
    // silent LFE in 4th place; BS.1770 leaves the LFE out, so it reads the same -23.0.
    {
      id: '3341-6-5.1',
      title: '5.1 variant of case 6 (silent LFE): I = -23.0',
      sampleRate: EBU_RATE_HZ,
      layout: '5.1',
      expect: { integratedLufs: -23 },
      synthesise: () => [-28, -28, -24, null, -30, -30].map((dbfs) => toneSegments([{ dbfs, seconds: 20 }])),
    },
    // Row 9: 1.34 s at -20 dBFS then 1.66 s at -30 dBFS, 5 times (15 s). Expected S = -23.0 +/-0.1,
    // constant after 3 s (every 3 s window holds one whole period).
    toneCase(
      '3341-9',
      '(1.34 s at -20, 1.66 s at -30 dBFS) x 5: S = -23.0, constant after 3 s',
      repeat(5, [
        { dbfs: -20, seconds: 1.34 },
        { dbfs: -30, seconds: 1.66 },
      ]),
      { shortTermLufs: -23, constantAfterSeconds: { shortTerm: 3 } },
    ),
  ];

  // Row 10: 20 files (seq-3341-10-1 .. -20). Expected Max S = -23.0 +/-0.1 LUFS for each.
  // Construction: file k (1..20) is (k - 1) x 0.15 s of silence, 3 s of tone at -23 dBFS, 1 s of
  // silence, so the tone's start walks across any 100 ms update grid.
  for (let k = 1; k <= 20; k++) {
    const lead = (k - 1) * 0.15;
    cases.push(
      toneCase(
        `3341-10-${k}`,
        `file ${k}: ${lead.toFixed(2)} s silence, 3 s at -23 dBFS: Max S = -23.0`,
        [
          { dbfs: null, seconds: lead },
          { dbfs: -23, seconds: 3 },
          { dbfs: null, seconds: 1 },
        ],
        { maxShortTermLufs: -23 },
      ),
    );
  }

  // Row 11: one file. Expected Max S = -38.0, -37.0, ..., -19.0 +/-0.1 LUFS, successive values.
  // Construction: 20 segments of 6 s; segment k (0..19) is k x 0.15 s of silence, 3 s of tone at
  // (-38 + k) dBFS, and silence to the end of its 6 s.
  cases.push(
    toneCase(
      '3341-11',
      '20 x 6 s segments, 3 s tone at -38..-19 dBFS shifted 0.15 s more each: Max S = -38..-19, successive',
      STEPS_11_14.flatMap((dbfs, k) => [
        { dbfs: null, seconds: k * 0.15 },
        { dbfs, seconds: 3 },
        { dbfs: null, seconds: 3 - k * 0.15 },
      ]),
      { successiveMaxShortTerm: { segmentSeconds: 6, values: STEPS_11_14 } },
    ),
  );

  // Row 12: 0.18 s at -20 dBFS then 0.22 s at -30 dBFS, 25 times (10 s). Expected M = -23.0 +/-0.1,
  // constant after 1 s (every 400 ms window holds one whole period).
  cases.push(
    toneCase(
      '3341-12',
      '(0.18 s at -20, 0.22 s at -30 dBFS) x 25: M = -23.0, constant after 1 s',
      repeat(25, [
        { dbfs: -20, seconds: 0.18 },
        { dbfs: -30, seconds: 0.22 },
      ]),
      { momentaryLufs: -23, constantAfterSeconds: { momentary: 1 }, maxMomentaryLufs: -23 },
    ),
  );

  // Row 13: 20 files (seq-3341-13-1 .. -20). Expected Max M = -23.0 +/-0.1 LUFS for each.
  // Construction: file k (1..20) is (k - 1) x 20 ms of silence, 0.4 s of tone at -23 dBFS, 1 s of
  // silence: the tone fills exactly one 400 ms window, which a 100 ms grid meets in 4 files of 20.
  for (let k = 1; k <= 20; k++) {
    const lead = (k - 1) * 0.02;
    cases.push(
      toneCase(
        `3341-13-${k}`,
        `file ${k}: ${(lead * 1000).toFixed(0)} ms silence, 0.4 s at -23 dBFS: Max M = -23.0`,
        [
          { dbfs: null, seconds: lead },
          { dbfs: -23, seconds: 0.4 },
          { dbfs: null, seconds: 1 },
        ],
        { maxMomentaryLufs: -23 },
      ),
    );
  }

  // Row 14: one file. Expected Max M = -38.0, ..., -19.0 +/-0.1 LUFS, successive values.
  // Construction: 20 segments of 0.8 s; segment k (0..19) is k x 20 ms of silence, 0.4 s of tone
  // at (-38 + k) dBFS, and silence to the end of its 0.8 s.
  cases.push(
    toneCase(
      '3341-14',
      '20 x 0.8 s segments, 0.4 s tone at -38..-19 dBFS shifted 20 ms more each: Max M = -38..-19, successive',
      STEPS_11_14.flatMap((dbfs, k) => [
        { dbfs: null, seconds: k * 0.02 },
        { dbfs, seconds: 0.4 },
        { dbfs: null, seconds: 0.4 - k * 0.02 },
      ]),
      { successiveMaxMomentary: { segmentSeconds: 0.8, values: STEPS_11_14 } },
    ),
  );
  return cases;
}

/** Length of each true-peak signal; the table states none, and 1 s keeps each within the stage's 1 s true-peak window. */
const TRUE_PEAK_SECONDS = 1;

function truePeakCase(id: string, divisor: number, amplitude: number, phaseDegrees: number, expected: number): EbuCase {
  return {
    id,
    title: `fs/${divisor} sine, ${amplitude.toFixed(2)} FFS, phase ${phaseDegrees} deg: max true peak ${expected.toFixed(1)} dBTP`,
    sampleRate: EBU_RATE_HZ,
    layout: 'stereo',
    expect: { maxTruePeakDbtp: expected },
    synthesise: () =>
      stereo(
        fadeEnds(sine(EBU_RATE_HZ, EBU_RATE_HZ / divisor, amplitude, phaseDegrees, TRUE_PEAK_SECONDS), EBU_RATE_HZ),
      ),
  };
}

/**
 * Windowed-sinc low-pass (Blackman window), unity gain at DC. `cutoff` is a fraction of the rate
 * the filter runs at. 1023 taps at 192 kHz: flat to about 20.5 kHz, over 70 dB down from 22.6 kHz.
 */
function lowPassTaps(cutoff: number, taps: number): Float64Array {
  const h = new Float64Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const t = i - mid;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    h[i] = sinc * w;
    sum += sinc * w;
  }
  for (let i = 0; i < taps; i++) h[i] = (h[i] ?? 0) / sum;
  return h;
}

/**
 * Tech 3341 rows 20-23: an fs/6 sine at 0.5 FFS with one period of an fs/4 sine at 1.0 FFS in its
 * middle (0 dBTP), both starting at phase 0 so the joins are continuous, synthesised at 4 x 48 kHz,
 * low-passed below 24 kHz and decimated to 48 kHz keeping samples `offset`, offset + 4, ... So the
 * same peak lands a quarter sample later in each of the four cases: one per oversampling phase.
 * Construction as public reproductions have it (phonometry, others); the table gives the files.
 */
function interSamplePeak(offset: number): Float32Array {
  const sixthPeriod = 24; // fs/6 at 4 fs
  const quarterPeriod = 16; // fs/4 at 4 fs
  const periodsEachSide = Math.round((TRUE_PEAK_SECONDS * EBU_RATE_HZ) / 6 / 2);
  const side = periodsEachSide * sixthPeriod * 4; // 4 fs samples each side of the fs/4 period
  const x = new Float64Array(2 * side + quarterPeriod);
  for (let n = 0; n < side; n++) {
    x[n] = 0.5 * Math.sin((2 * Math.PI * n) / sixthPeriod);
    x[side + quarterPeriod + n] = 0.5 * Math.sin((2 * Math.PI * n) / sixthPeriod);
  }
  for (let n = 0; n < quarterPeriod; n++) x[side + n] = Math.sin((2 * Math.PI * n) / quarterPeriod);
  // 0.45 x 48 kHz cutoff at 4 fs; only the kept samples are filtered (zero-phase, centred taps).
  const taps = lowPassTaps(0.45 / 4, 1023);
  const mid = (taps.length - 1) / 2;
  const out = new Float32Array(Math.floor((x.length - offset) / 4));
  for (let m = 0; m < out.length; m++) {
    const centre = 4 * m + offset;
    let acc = 0;
    for (let k = 0; k < taps.length; k++) {
      const j = centre + k - mid;
      if (j >= 0 && j < x.length) acc += (taps[k] ?? 0) * (x[j] ?? 0);
    }
    out[m] = acc;
  }
  return fadeEnds(out, EBU_RATE_HZ);
}

/** EBU Tech 3341 v4 Table 1, true-peak rows (cases 15-23): tolerance +0.2 / -0.4 dB. */
function tech3341TruePeakCases(): EbuCase[] {
  const cases = [
    // Row 15: 48 kHz, fs/4 (12 kHz) sine, 0.50 FFS, phase 0 deg. Expected max TP -6.0 dBTP.
    truePeakCase('3341-15', 4, 0.5, 0, -6),
    // Row 16: fs/4, 0.50 FFS, phase 45 deg (samples at 0.354, -9.0 dBFS). Expected -6.0 dBTP.
    truePeakCase('3341-16', 4, 0.5, 45, -6),
    // Row 17: fs/6 (8 kHz), 0.50 FFS, phase 60 deg. Expected -6.0 dBTP.
    truePeakCase('3341-17', 6, 0.5, 60, -6),
    // Row 18: fs/8 (6 kHz), 0.50 FFS, phase 67.5 deg. Expected -6.0 dBTP.
    truePeakCase('3341-18', 8, 0.5, 67.5, -6),
    // Row 19: fs/4, 1.41 FFS, phase 45 deg: samples just under full scale, peak +3 dB over it.
    // Expected +3.0 dBTP.
    truePeakCase('3341-19', 4, 1.41, 45, 3),
  ];
  // Rows 20-23: the fs/4 period inside an fs/6 tone, decimated with offsets 0..3. Expected 0.0 dBTP.
  for (let offset = 0; offset < 4; offset++) {
    cases.push({
      id: `3341-${20 + offset}`,
      title: `fs/4 period at 1.0 FFS in an fs/6 tone, decimated at offset ${offset}: max true peak 0.0 dBTP`,
      sampleRate: EBU_RATE_HZ,
      layout: 'stereo',
      expect: { maxTruePeakDbtp: 0 },
      synthesise: () => stereo(interSamplePeak(offset)),
    });
  }
  return cases;
}

/** EBU Tech 3342 v4 Table 1, cases 1-4: stereo 1 kHz, 20 s per level; LRA tolerance +/-1 LU. */
function tech3342Cases(): EbuCase[] {
  const rows: { levels: number[]; lra: number }[] = [
    { levels: [-20, -30], lra: 10 }, // row 1: -20 then -30 dBFS: LRA = 10 +/-1 LU
    { levels: [-20, -15], lra: 5 }, // row 2: -20 then -15 dBFS: LRA = 5 +/-1 LU
    { levels: [-40, -20], lra: 20 }, // row 3: -40 then -20 dBFS: LRA = 20 +/-1 LU
    { levels: [-50, -35, -20, -35, -50], lra: 15 }, // row 4: five 20 s steps: LRA = 15 +/-1 LU
  ];
  return rows.map(({ levels, lra }, i) =>
    toneCase(
      `3342-${i + 1}`,
      `${levels.join(' / ')} dBFS, 20 s each: LRA = ${lra} LU`,
      levels.map((dbfs) => ({ dbfs, seconds: 20 })),
      { loudnessRangeLu: lra },
    ),
  );
}

/** Every synthesisable case of Tech 3341 and Tech 3342, in table order. */
export function ebuCases(): EbuCase[] {
  return [...tech3341LoudnessCases(), ...tech3341TruePeakCases(), ...tech3342Cases()];
}

/** Channels (one array each, equal lengths) to one interleaved array, as the decoder delivers them. */
export function interleave(channels: readonly Float32Array[]): Float32Array {
  const count = channels.length;
  const frames = channels[0]?.length ?? 0;
  const out = new Float32Array(frames * count);
  channels.forEach((channel, c) => {
    if (channel.length !== frames) throw new RangeError(`channel ${c} has ${channel.length} samples, not ${frames}`);
    for (let f = 0; f < frames; f++) out[f * count + c] = channel[f] ?? 0;
  });
  return out;
}

/** WAVE_FORMAT_EXTENSIBLE channel masks (FL FR FC LFE BL BR): what ffmpeg reads as the layout. */
const CHANNEL_MASKS: Readonly<Record<EbuLayout, number>> = {
  stereo: 0x3,
  '5.0': 0x37, // FL FR FC BL BR
  '5.1': 0x3f, // FL FR FC LFE BL BR
};

export type WavEncoding = 'float32' | 'pcm24';

/**
 * A WAV file (WAVE_FORMAT_EXTENSIBLE, so the channel layout travels with it) of 32-bit float or
 * 24-bit PCM. 24-bit clips at full scale, which rows 19-23 need not: their samples stay under it.
 */
export function wavBytes(
  channels: readonly Float32Array[],
  sampleRate: number,
  layout: EbuLayout,
  encoding: WavEncoding = 'float32',
): Buffer {
  const data = interleave(channels);
  const bytesPerSample = encoding === 'float32' ? 4 : 3;
  const count = channels.length;
  const dataBytes = data.length * bytesPerSample;
  const header = Buffer.alloc(68);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(60 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(40, 16);
  header.writeUInt16LE(0xfffe, 20); // WAVE_FORMAT_EXTENSIBLE
  header.writeUInt16LE(count, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * count * bytesPerSample, 28);
  header.writeUInt16LE(count * bytesPerSample, 32);
  header.writeUInt16LE(8 * bytesPerSample, 34);
  header.writeUInt16LE(22, 36);
  header.writeUInt16LE(8 * bytesPerSample, 38);
  header.writeUInt32LE(CHANNEL_MASKS[layout], 40);
  // Sub-format GUID: 00000003 (IEEE float) or 00000001 (PCM) -0000-0010-8000-00aa00389b71.
  header.writeUInt32LE(encoding === 'float32' ? 3 : 1, 44);
  Buffer.from([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(header, 48);
  header.write('data', 60, 'ascii');
  header.writeUInt32LE(dataBytes, 64);
  const body = Buffer.alloc(dataBytes);
  if (encoding === 'float32') {
    for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i] ?? 0, 4 * i);
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = Math.max(-8388608, Math.min(8388607, Math.round((data[i] ?? 0) * 8388608)));
      body.writeIntLE(v, 3 * i, 3);
    }
  }
  return Buffer.concat([header, body]);
}

/** Writes a case's signal as a WAV file ffmpeg reads with its layout; returns the path. */
export function writeCaseWav(path: string, c: EbuCase, encoding: WavEncoding = 'float32'): string {
  writeFileSync(path, wavBytes(c.synthesise(), c.sampleRate, c.layout, encoding));
  return path;
}
