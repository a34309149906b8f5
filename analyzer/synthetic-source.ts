/**
 * A synthetic stream made by ffmpeg's own generators (lavfi), with defects injected on a
 * known schedule: the demo's live source and the tests' media. Nothing is downloaded.
 *
 * Picture: testsrc2 (always moving). Sound: a 440 Hz stereo tone at -23 LUFS.
 * Injected defects: black (filled box), freeze (freezeframes), blur (gblur), silence,
 * quiet (-20 dB: a loudness defect), clipping (+30 dB), corrupt (bytes of the H.264
 * packets damaged by the noise bitstream filter: real macroblocking and decode errors).
 * A stall is not a filter: the caller stops the sender (see the demo).
 */

export type InjectedDefect = 'black' | 'freeze' | 'blur' | 'silence' | 'quiet' | 'clipping' | 'corrupt';

export interface DefectWindow {
  type: InjectedDefect;
  /** Seconds on the schedule's clock. */
  start: number;
  end: number;
}

export interface SyntheticStreamOptions {
  width: number;
  height: number;
  fps: number;
  /** Seconds to generate; null for endless (live). */
  duration: number | null;
  schedule: readonly DefectWindow[];
  /** Where this process starts on the schedule's clock (a restarted sender continues). */
  scheduleOffset?: number;
  /** ffmpeg output target: a file path or a URL such as udp://127.0.0.1:5000?pkt_size=1316. */
  output: string;
  /** Container: mpegts (default), mp4, hls, ... */
  format?: string;
  /** Pace output at real time (a live source). */
  realtime?: boolean;
  /** Include audio (default true) / video (default true). */
  audio?: boolean;
  video?: boolean;
  /** Video codec options (default H.264 ultrafast, one keyframe a second). */
  videoCodecArgs?: string[];
}

function during(windows: readonly DefectWindow[], offset: number): string {
  // lt() at the end: `end` is the first good instant. Filter time starts at 0 in this process.
  return windows.map((w) => `gte(t,${(w.start - offset).toFixed(3)})*lt(t,${(w.end - offset).toFixed(3)})`).join('+');
}

/** The ffmpeg arguments that produce the stream (without the `ffmpeg` itself). */
export function syntheticStreamArgs(o: SyntheticStreamOptions): string[] {
  const offset = o.scheduleOffset ?? 0;
  const of = (type: InjectedDefect): DefectWindow[] => o.schedule.filter((w) => w.type === type && w.end > offset);
  const wantVideo = o.video ?? true;
  const wantAudio = o.audio ?? true;
  const dur = o.duration === null ? '' : `:d=${o.duration}`;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (o.realtime) args.push('-re');
  const chains: string[] = [];
  let inputs = 0;
  if (wantVideo) {
    args.push('-f', 'lavfi', '-i', `testsrc2=s=${o.width}x${o.height}:r=${o.fps}${dur}`);
    let chain = `[${inputs}:v]format=yuv420p`;
    let label = 'v0';
    const freezes = of('freeze');
    chains.push(`${chain}[${label}]`);
    freezes.forEach((w, i) => {
      const first = Math.max(1, Math.round((w.start - offset) * o.fps));
      const last = Math.max(first, Math.round((w.end - offset) * o.fps) - 1);
      chains.push(`[${label}]split[fa${i}][fb${i}]`);
      chains.push(`[fa${i}][fb${i}]freezeframes=first=${first}:last=${last}:replace=${first - 1}[vf${i}]`);
      label = `vf${i}`;
    });
    chain = `[${label}]null`;
    const black = of('black');
    if (black.length) chain += `,drawbox=c=black:t=fill:enable='${during(black, offset)}'`;
    const blur = of('blur');
    if (blur.length) chain += `,gblur=sigma=12:enable='${during(blur, offset)}'`;
    chains.push(`${chain}[vout]`);
    inputs++;
  }
  if (wantAudio) {
    args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000${dur}`);
    let chain = `[${inputs}:a]aformat=channel_layouts=stereo,volume=-1.2dB`;
    const silence = of('silence');
    if (silence.length) chain += `,volume=0:enable='${during(silence, offset)}'`;
    const quiet = of('quiet');
    if (quiet.length) chain += `,volume=-20dB:enable='${during(quiet, offset)}'`;
    const clip = of('clipping');
    // Clip in the PCM domain, as a real overdriven chain does: s16 saturates at full scale.
    if (clip.length) chain += `,volume=30dB:enable='${during(clip, offset)}',aformat=sample_fmts=s16`;
    chains.push(`${chain}[aout]`);
  }
  args.push('-filter_complex', chains.join(';'));
  if (wantVideo) {
    args.push('-map', '[vout]');
    args.push(
      ...(o.videoCodecArgs ?? [
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-g',
        String(o.fps),
        '-pix_fmt',
        'yuv420p',
      ]),
    );
    const corrupt = of('corrupt');
    if (corrupt.length) {
      // noise's `n` is the packet (frame) number in this process.
      const expr = corrupt
        .map((w) => `between(n,${Math.round((w.start - offset) * o.fps)},${Math.round((w.end - offset) * o.fps) - 1})`)
        .join('+');
      args.push('-bsf:v', `noise=amount='if(${expr},2000,0)'`);
    }
  }
  if (wantAudio) args.push('-map', '[aout]', '-c:a', 'aac', '-b:a', '128k');
  const format = o.format ?? 'mpegts';
  args.push('-f', format);
  if (format === 'mpegts' && /^(udp|srt|rtp):/.test(o.output)) args.push('-flush_packets', '1');
  args.push('-y', o.output);
  return args;
}
