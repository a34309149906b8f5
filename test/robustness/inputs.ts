/**
 * The fuzz suite's inputs, all made on this machine with fixed seeds: byte-flipped (Debian's
 * zzuf) and truncated copies of small TS/MP4/MKV clips, odd but legal audio, files that are not
 * media at all, hostile endpoints on loopback, and usage errors. Each says which exit codes the
 * CLI contract allows for it and how long it may take.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { cachedMedia, runCommand, runFfmpeg, syntheticClip } from '../media/fixtures.js';
import { freeTcpPort } from '../net.js';
import { seededBytes } from './noise.js';
import type { HostileServers } from './servers.js';

export type ExitCode = 0 | 1 | 2;

export interface FuzzInput {
  /** Unique and shown in every failure: a number and how the input was made. */
  name: string;
  /** The INPUT argument of `streamqc analyze`. */
  input: string;
  /** A string in the command line of every ffmpeg/ffprobe working on this input ('' when none can start). */
  marker: string;
  /** What the CLI contract allows: 0 analysed, 1 cannot be opened or decoded, 2 usage. */
  exits: readonly ExitCode[];
  /** Past this the run counts as a hang. */
  boundMs: number;
  env?: Record<string, string>;
}

/** The analyzer config every input runs with. */
export const FUZZ_CONFIG = fileURLToPath(new URL('../../../test/robustness/fuzz-analyzer.yaml', import.meta.url));

const ingest = (YAML.parse(readFileSync(FUZZ_CONFIG, 'utf8')) as { ingest: { ioTimeout: number; openTimeout: number } })
  .ingest;

/**
 * A local 2 s clip takes about 1.2 s on an idle core; the slowest input that ended on its own
 * took 11 s with two cores shared by a load of 14. 30 s is a hang, not slowness.
 */
export const FINITE_BOUND_MS = 30_000;

/**
 * A source that never delivers media is retried until openTimeout; the attempt running then may
 * take an ioTimeout to probe and another to open; plus 10 s for process start-ups (the CLI's,
 * then ffprobe's on each attempt) on a busy machine. An RTMP or RTSP server that accepts and
 * never speaks ended in 5.7 s on an idle machine and in 13.2 to 13.5 s while the suite's other
 * test files ran beside the fuzz suite (2 of 2 full runs, 5 s of slack then); a hang never ends.
 */
export const NETWORK_BOUND_MS = (ingest.openTimeout + 2 * ingest.ioTimeout + 10) * 1000;

const CONTAINERS = [
  { ext: 'ts', format: 'mpegts' },
  { ext: 'mp4', format: 'mp4' },
  { ext: 'mkv', format: 'matroska' },
] as const;

/** Seeds 1..N; the ratio (share of bits flipped) cycles from barely damaged to unrecognisable. */
const ZZUF_SEEDS = 24;
const ZZUF_RATIOS = [0.0005, 0.002, 0.01, 0.05];

/** 2 s, 160x90, 25 fps with a 0.8 s black box (so decodable inputs print events) and stereo AAC. */
function cleanClip(format: string, ext: string): Promise<string> {
  return syntheticClip(
    `fuzz-clean-${ext}`,
    { width: 160, height: 90, fps: 25, duration: 2, schedule: [{ type: 'black', start: 0.6, end: 1.4 }], format },
    ext,
  );
}

const video = ['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=2'];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/** A tone at `rate` Hz as 16-bit PCM, which takes any rate (AAC would refuse 2 kHz). */
function toneAt(rate: number, withVideo: boolean, ext: string): Promise<string> {
  return cachedMedia(`fuzz-rate-${rate}-${withVideo ? 'av' : 'a'}`, ext, (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    ...(withVideo ? video : []),
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=300:sample_rate=${rate}:d=2`,
    ...(withVideo ? h264 : []),
    '-c:a',
    'pcm_s16le',
    '-y',
    out,
  ]);
}

/** Silent PCM with `channels` channels: raw input, because ffmpeg's filters stop at 64 channels. */
function channels(count: number, withVideo: boolean, ext: string): Promise<string> {
  return cachedMedia(`fuzz-channels-${count}-${withVideo ? 'av' : 'a'}`, ext, (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    ...(withVideo ? video : []),
    '-f',
    's16le',
    '-ar',
    '48000',
    '-ac',
    String(count),
    '-t',
    '2',
    '-i',
    '/dev/zero',
    ...(withVideo ? h264 : []),
    '-c:a',
    'copy',
    '-y',
    out,
  ]);
}

/** Cut points: header-only, mid-packet, most of the file, all but the last byte. */
function truncations(size: number): number[] {
  return [
    1,
    188,
    1024,
    4096,
    Math.floor(size * 0.1),
    Math.floor(size * 0.25),
    Math.floor(size * 0.5) + 77,
    Math.floor(size * 0.75),
    Math.floor(size * 0.9),
    size - 188 - 77,
    size - 1,
  ];
}

const ANALYSED: readonly ExitCode[] = [0];
const EITHER: readonly ExitCode[] = [0, 1];
const REFUSED: readonly ExitCode[] = [1];
const USAGE: readonly ExitCode[] = [2];

/** Numbers each input and keeps its file under `dir`. */
class Catalogue {
  readonly inputs: FuzzInput[] = [];
  constructor(readonly dir: string) {}

  private nextName(what: string): string {
    return `${String(this.inputs.length + 1).padStart(3, '0')} ${what}`;
  }

  /** A path for the next input, unique so it can serve as the marker of its children. */
  path(slug: string, ext: string): string {
    return join(this.dir, `${String(this.inputs.length + 1).padStart(3, '0')}-${slug}.${ext}`);
  }

  file(what: string, path: string, exits: readonly ExitCode[], env?: Record<string, string>): void {
    this.inputs.push({ name: this.nextName(what), input: path, marker: path, exits, boundMs: FINITE_BOUND_MS, env });
  }

  bytes(what: string, slug: string, ext: string, bytes: Uint8Array, exits: readonly ExitCode[]): void {
    const path = this.path(slug, ext);
    writeFileSync(path, bytes);
    this.file(what, path, exits);
  }

  url(what: string, url: string, exits: readonly ExitCode[], boundMs: number): void {
    this.inputs.push({ name: this.nextName(what), input: url, marker: url, exits, boundMs });
  }

  usage(what: string, input: string, env?: Record<string, string>): void {
    this.inputs.push({ name: this.nextName(what), input, marker: input, exits: USAGE, boundMs: FINITE_BOUND_MS, env });
  }
}

async function mutationsAndTruncations(c: Catalogue): Promise<string> {
  let cleanTs = '';
  for (const { ext, format } of CONTAINERS) {
    const clean = await cleanClip(format, ext);
    if (ext === 'ts') cleanTs = clean;
    const bytes = readFileSync(clean);
    c.file(`${ext} clean clip (control)`, clean, ANALYSED);
    for (let seed = 1; seed <= ZZUF_SEEDS; seed++) {
      const ratio = ZZUF_RATIOS[seed % ZZUF_RATIOS.length];
      const mutated = await runCommand('zzuf', ['-s', String(seed), '-r', String(ratio)], {
        input: bytes,
        what: 'zzuf',
      });
      c.bytes(`${ext} zzuf -s ${seed} -r ${ratio} < ${clean}`, `zzuf-s${seed}`, ext, mutated.stdout, EITHER);
    }
    for (const cut of truncations(bytes.length)) {
      c.bytes(
        `${ext} first ${cut} of ${bytes.length} bytes of ${clean}`,
        `cut${cut}`,
        ext,
        bytes.subarray(0, cut),
        EITHER,
      );
    }
    const at = Math.floor(bytes.length * 0.4);
    c.bytes(
      `${ext} 4096 bytes cut out at byte ${at}`,
      'hole',
      ext,
      Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 4096)]),
      EITHER,
    );
    c.bytes(`${ext} the clip twice, back to back`, 'twice', ext, Buffer.concat([bytes, bytes]), EITHER);
  }
  return cleanTs;
}

async function oddAudio(c: Catalogue): Promise<void> {
  for (const rate of [2000, 4000, 1_000_000]) {
    c.file(`mkv with ${rate} Hz PCM audio`, await toneAt(rate, true, 'mkv'), EITHER);
    c.file(`wav at ${rate} Hz`, await toneAt(rate, false, 'wav'), EITHER);
  }
  c.file('mkv with 65-channel PCM audio', await channels(65, true, 'mkv'), EITHER);
  c.file('wav with 65 channels', await channels(65, false, 'wav'), EITHER);
  // Controls just inside what every tool handles.
  c.file('mkv with 8000 Hz PCM audio (control)', await toneAt(8000, true, 'mkv'), ANALYSED);
  c.file('mkv with 192000 Hz PCM audio (control)', await toneAt(192_000, true, 'mkv'), ANALYSED);
  c.file('mkv with 64-channel PCM audio (control)', await channels(64, true, 'mkv'), ANALYSED);
}

async function notMedia(c: Catalogue, cleanTs: string): Promise<void> {
  c.bytes('zero-length file', 'empty', 'ts', new Uint8Array(0), REFUSED);
  c.bytes(
    'a text file',
    'notes',
    'txt',
    Buffer.from('these are not the frames you are looking for\n'.repeat(50)),
    REFUSED,
  );
  c.bytes('64 KiB of seeded noise', 'noise', 'ts', seededBytes(7, 65_536), EITHER);
  const sync = seededBytes(11, 188 * 400);
  for (let i = 0; i < sync.length; i += 188) sync[i] = 0x47; // MPEG-TS sync bytes, noise in between
  c.bytes('MPEG-TS sync bytes with noise in every packet', 'sync-noise', 'ts', sync, EITHER);
  c.file(
    'a PNG picture',
    await cachedMedia('fuzz-picture', 'png', (out) => [
      '-hide_banner',
      '-loglevel',
      'error',
      ...video,
      '-frames:v',
      '1',
      '-y',
      out,
    ]),
    EITHER,
  );
  c.file(
    'an animated GIF',
    await cachedMedia('fuzz-animation', 'gif', (out) => ['-hide_banner', '-loglevel', 'error', ...video, '-y', out]),
    EITHER,
  );
  const dir = c.path('folder', 'd');
  mkdirSync(dir);
  c.file('a directory', dir, REFUSED);
  const fifo = c.path('fifo', 'ts');
  await runCommand('mkfifo', [fifo], { what: 'mkfifo' });
  c.file('a FIFO nobody writes to', fifo, REFUSED);
  c.file('a file that does not exist', c.path('missing', 'ts'), REFUSED);
  c.file('/dev/null', '/dev/null', REFUSED);
  const odd = join(c.dir, `${String(c.inputs.length + 1).padStart(3, '0')} clip with spaces, ünïcödé & 'quotes'.ts`);
  copyFileSync(cleanTs, odd);
  c.file('a clean clip whose name has spaces, accents and quotes', odd, ANALYSED);
  const selfPlaylist = c.path('self-master', 'm3u8');
  writeFileSync(selfPlaylist, `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\n${selfPlaylist}\n`);
  c.file('a local HLS master playlist naming itself', selfPlaylist, REFUSED);
  const gone = c.path('gone-segments', 'm3u8');
  writeFileSync(
    gone,
    '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\ngone0.ts\n#EXTINF:1.0,\ngone1.ts\n#EXT-X-ENDLIST\n',
  );
  c.file('a local HLS playlist whose segments do not exist', gone, REFUSED);
}

function usageErrors(c: Catalogue, cleanTs: string): void {
  c.usage('a scheme that is not supported', `gopher://127.0.0.1/${c.inputs.length + 1}`);
  c.usage('an empty INPUT', '');
  c.usage('a URL that does not parse', `http://[127.0.0.1/${c.inputs.length + 1}`);
  const copy = c.path('log-level', 'ts');
  copyFileSync(cleanTs, copy);
  c.usage('STREAMQC_LOG_LEVEL=bogus', copy, { STREAMQC_LOG_LEVEL: 'bogus' });
}

/** Network inputs; each gets its own URL (a path segment or a port) so its children can be told apart. */
async function hostileEndpoints(c: Catalogue, servers: HostileServers): Promise<void> {
  const id = (): string => `fz${c.inputs.length + 1}`;
  c.url('http to a closed port', `http://127.0.0.1:${await freeTcpPort()}/${id()}/x.ts`, REFUSED, NETWORK_BOUND_MS);
  c.url('rtmp to a closed port', `rtmp://127.0.0.1:${await freeTcpPort()}/${id()}/x`, REFUSED, NETWORK_BOUND_MS);
  c.url('rtsp to a closed port', `rtsp://127.0.0.1:${await freeTcpPort()}/${id()}`, REFUSED, NETWORK_BOUND_MS);
  c.url('srt with no listener', `srt://127.0.0.1:${await freeTcpPort()}?streamid=${id()}`, REFUSED, NETWORK_BOUND_MS);
  c.url('udp with no sender', `udp://127.0.0.1:${await freeTcpPort()}`, REFUSED, NETWORK_BOUND_MS);
  c.url(
    'rtmp to a server that accepts and never speaks',
    `rtmp://127.0.0.1:${servers.silentTcpPort}/${id()}/x`,
    REFUSED,
    NETWORK_BOUND_MS,
  );
  c.url(
    'rtsp to a server that accepts and never speaks',
    `rtsp://127.0.0.1:${servers.silentTcpPort}/${id()}`,
    REFUSED,
    NETWORK_BOUND_MS,
  );
  c.url('http 401 with a Basic challenge', servers.url('unauthorized', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http 403', servers.url('forbidden', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http 404', servers.url('not-found', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http 500', servers.url('server-error', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http redirect to itself', servers.url('redirect-loop', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http login page instead of media', servers.url('html', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http server that never answers', servers.url('silent', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http server that drips noise forever', servers.url('drip', id(), 'x.ts'), REFUSED, NETWORK_BOUND_MS);
  c.url('http clip with Range (control)', servers.url('file', id(), 'clip.ts'), ANALYSED, FINITE_BOUND_MS);
  c.url(
    'http clip from a server without Range',
    servers.url('file-no-range', id(), 'clip.ts'),
    ANALYSED,
    FINITE_BOUND_MS,
  );
  c.url('HLS VOD (control)', servers.url('hls', id(), 'index.m3u8'), ANALYSED, FINITE_BOUND_MS);
  c.url(
    'HLS VOD with one segment 404',
    servers.url('hls-missing-segment', id(), 'index.m3u8'),
    EITHER,
    FINITE_BOUND_MS,
  );
  c.url(
    'HLS VOD with every segment 404',
    servers.url('hls-all-segments-missing', id(), 'index.m3u8'),
    REFUSED,
    NETWORK_BOUND_MS,
  );
  c.url(
    'HLS master playlist naming itself',
    servers.url('hls-self-master', id(), 'master.m3u8'),
    REFUSED,
    NETWORK_BOUND_MS,
  );
  c.url('HLS masters naming each other', servers.url('hls-ping-pong', id(), 'a.m3u8'), REFUSED, NETWORK_BOUND_MS);
  c.url(
    'HLS playlist whose segment is itself',
    servers.url('hls-self-segment', id(), 'self.m3u8'),
    REFUSED,
    NETWORK_BOUND_MS,
  );
}

/** The clip and HLS folder the hostile HTTP server serves as its well-behaved controls. */
export async function servedMedia(dir: string): Promise<{ clip: string; hlsDir: string }> {
  const clip = await cleanClip('mpegts', 'ts');
  const hlsDir = join(dir, 'hls');
  mkdirSync(hlsDir);
  await runFfmpeg(
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      clip,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      '0.5',
      '-hls_list_size',
      '0',
      '-hls_playlist_type',
      'vod',
      join(hlsDir, 'index.m3u8'),
    ],
    { what: 'making the HLS fixture' },
  );
  return { clip, hlsDir };
}

/** Every input, numbered in a fixed order; files are written under `dir`. */
export async function fuzzInputs(dir: string, servers: HostileServers): Promise<FuzzInput[]> {
  const c = new Catalogue(dir);
  const cleanTs = await mutationsAndTruncations(c);
  await oddAudio(c);
  await notMedia(c, cleanTs);
  usageErrors(c, cleanTs);
  await hostileEndpoints(c, servers);
  const markers = c.inputs.map((i) => i.marker).filter((m) => m !== '');
  if (new Set(markers).size !== markers.length)
    throw new Error('two fuzz inputs share a marker: their children could not be told apart');
  return c.inputs;
}
