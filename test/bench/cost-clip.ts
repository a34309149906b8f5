/**
 * The clip the cost benchmarks decode and analyse (test/bench/analyzer.ts on CPU, gpu-check.ts on
 * a GPU), so both measure the same workload.
 */
export const CLIP_SECONDS = 30;
export const FPS = 30;

/**
 * A clip whose decode cost resembles camera content: testsrc2 is flat colour and decodes far
 * too cheaply, so the picture is a zooming Mandelbrot (fine detail everywhere) with light
 * temporal noise (sensor grain: every frame has residuals to decode). veryfast/crf 23 alone
 * gives ~11 Mbit/s at 1080p (decode cost well above camera content), so the rate is capped
 * the way a live encoder's VBV caps it: 7 Mbit/s at 1080p, scaled by pixel count below.
 * A 2 s GOP as live encoders use. 3 s freeze (8-11 s),
 * 3 s black (20-23 s) and 3 s silence (14-17 s) inside, so the detectors have work to report.
 * Sound: a tone over pink noise, stereo 48 kHz AAC.
 */
export function costClipRecipe(width: number, height: number): string[] {
  const freezeFirst = 8 * FPS;
  const freezeLast = 11 * FPS - 1;
  const video =
    `[0:v]noise=alls=3:allf=t,format=yuv420p,split[va][vb];` +
    `[va][vb]freezeframes=first=${freezeFirst}:last=${freezeLast}:replace=${freezeFirst - 1},` +
    `drawbox=c=black:t=fill:enable='between(t,20,23)'[v]`;
  const maxrateKbit = Math.round((7000 * width * height) / (1920 * 1080));
  const audio =
    `[1:a][2:a]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo,` + `volume=0:enable='between(t,14,17)'[a]`;
  return [
    '-f',
    'lavfi',
    '-i',
    `mandelbrot=s=${width}x${height}:r=${FPS}:maxiter=256`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-f',
    'lavfi',
    '-i',
    'anoisesrc=color=pink:amplitude=0.05:sample_rate=48000',
    '-filter_complex',
    `${video};${audio}`,
    '-map',
    '[v]',
    '-map',
    '[a]',
    '-t',
    String(CLIP_SECONDS),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-maxrate',
    `${maxrateKbit}k`,
    '-bufsize',
    `${2 * maxrateKbit}k`,
    '-g',
    String(2 * FPS),
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
  ];
}
