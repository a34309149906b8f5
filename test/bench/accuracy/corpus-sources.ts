/**
 * The pictures and sounds of the accuracy corpus: each one a fragment of an ffmpeg filter
 * graph built only from lavfi generators, so nothing is downloaded. Each picture ends in the
 * label `[picture]`, each sound in `[sound]`; sounds are calibrated to about -23 LUFS (EBU
 * R128's target, measured with ffmpeg's ebur128), so only injected loudness jumps leave the
 * loudness detector's band.
 */

export type PictureSource =
  | 'testsrc2'
  | 'mandelbrot'
  | 'cellauto'
  | 'bars'
  | 'bars-slow'
  | 'gradients'
  | 'grain'
  | 'dark'
  | 'dark-grain'
  | 'rotating-bars';

export type SoundSource = 'tone' | 'music' | 'pink' | 'speech';

export interface PictureSize {
  width: number;
  height: number;
  fps: number;
}

/** Filter graph text that produces `[picture]` at the given size and rate (endless). */
export function pictureGraph(source: PictureSource, { width: w, height: h, fps }: PictureSize): string {
  const s = `s=${w}x${h}:r=${fps}`;
  switch (source) {
    case 'testsrc2':
      return `testsrc2=${s}[picture]`;
    case 'mandelbrot':
      // Zooms in continuously but slowly: detailed, always moving, never fast.
      return `mandelbrot=${s}[picture]`;
    case 'cellauto':
      // Rule 110 scrolling down; cells of 4x4 pixels so it is texture, not per-pixel noise.
      return `cellauto=s=${Math.round(w / 4)}x${Math.round(h / 4)}:r=${fps}:rule=110:random_seed=5,scale=${w}:${h}:flags=neighbor[picture]`;
    case 'bars':
      // Colour bars are static; a moving inset keeps the picture alive, as a station ident does.
      return `smptehdbars=${s}[bars];testsrc2=s=${even(w / 4)}x${even(h / 4)}:r=${fps}[inset];[bars][inset]overlay=x='mod(t*${Math.round(w / 6)},${w})':y=${even(h / 2)}[picture]`;
    case 'bars-slow':
      // Near-static: a small inset creeps across the bars at about a tenth of the width per 10 s.
      return `smptehdbars=${s}[bars];testsrc2=s=${even(w / 8)}x${even(h / 8)}:r=${fps}[inset];[bars][inset]overlay=x='${Math.round(w / 100)}*t':y=${even(h / 3)}[picture]`;
    case 'gradients':
      // Naturally soft: smooth colour gradients with little detail, slowly changing.
      // Rendered at a quarter size and scaled up: cheaper, and softer still.
      return `gradients=s=${even(w / 4)}x${even(h / 4)}:r=${fps}:speed=0.08:seed=3,scale=${w}:${h}:flags=bicubic[picture]`;
    case 'grain':
      // A slow zoom under film-like grain that changes every frame. Not grain alone: blurred,
      // a grain-only field is a still grey picture, which any picture-based tool calls frozen.
      return `mandelbrot=${s},noise=alls=14:allf=t+u,format=yuv420p[picture]`;
    case 'dark':
      // Dim but detailed (nominal luma about 20..60): dark, yet far from black.
      return `testsrc2=${s},format=yuv420p,lutyuv=y='16+(val-16)*0.2':u='128+(val-128)*0.3':v='128+(val-128)*0.3'[picture]`;
    case 'dark-grain':
      // A night scene's look: dark grey (nominal luma ~40) with grain, and a dim moving inset.
      return `color=c=0x1e1e1e:${s},noise=alls=10:allf=t+u,format=yuv420p[night];testsrc2=s=${even(w / 3)}x${even(h / 3)}:r=${fps},format=yuv420p,lutyuv=y='16+(val-16)*0.25'[dim];[night][dim]overlay=x='mod(t*${Math.round(w / 20)},${w})':y=${even(h / 3)}[picture]`;
    case 'rotating-bars':
      // Very slow motion: bars turning 1 degree a second (a full turn takes six minutes).
      return `smptehdbars=${s},rotate=a='PI/180*t':c=0x202020[picture]`;
  }
}

function even(x: number): number {
  return 2 * Math.round(x / 2);
}

export const SAMPLE_RATE = 48000;

/** Filter graph text that produces `[sound]`: stereo float at SAMPLE_RATE, about -23 LUFS. */
export function soundGraph(source: SoundSource): string {
  const r = SAMPLE_RATE;
  switch (source) {
    case 'tone':
      return `sine=frequency=440:sample_rate=${r},aformat=channel_layouts=stereo,volume=-1.2dB[sound]`;
    case 'music': {
      // Three-note chords that move every 2 s over a bed of pink noise.
      const step = 'pow(2,floor(mod(t,8)/2)/4)';
      const chord = [
        [0.1, 220],
        [0.08, 277.2],
        [0.07, 329.6],
      ]
        .map(([a, f]) => `${a}*sin(2*PI*t*${f}*${step})`)
        .join('+');
      return `aevalsrc='${chord}':s=${r}[chords];anoisesrc=color=pink:amplitude=0.03:sample_rate=${r}:seed=7[bed];[chords][bed]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo,volume=-2.5dB[sound]`;
    }
    case 'pink':
      return `anoisesrc=color=pink:amplitude=0.1:sample_rate=${r}:seed=7,aformat=channel_layouts=stereo,volume=11.6dB[sound]`;
    case 'speech':
      // Band-limited noise in syllables (2.5 Hz) for 3.5 s, then a 1.5 s pause at about
      // -49 dBFS peak: room tone, well above silence's -60 dBFS and too short anyway.
      return `anoisesrc=color=white:amplitude=0.5:sample_rate=${r}:seed=3,highpass=f=300,lowpass=f=3000,volume=volume='if(lt(mod(t\\,5)\\,3.5)\\,0.25+0.75*abs(sin(2*PI*2.5*t))\\,0.015)':eval=frame,aformat=channel_layouts=stereo,volume=-2.3dB[sound]`;
  }
}
