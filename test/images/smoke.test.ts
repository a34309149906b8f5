/**
 * Smoke tests of the built images, run with podman the way a restricted pod runs them: a
 * read-only root filesystem, a uid the image never named, no network, no capabilities.
 * The images come from scripts/images.sh (built once per change of their inputs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, syntheticClip, type CommandResult } from '../media/fixtures.js';
import { ensureImages, type BuiltImages } from './images.js';

const FRAME = 1 / 25;
/** Cold builds take minutes; a warm call only hashes the inputs. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** What a restricted pod gets: nothing writable but podman's /tmp, no network, no capabilities. */
const RESTRICTED = ['--read-only', '--network=none', '--cap-drop=all', '--security-opt=no-new-privileges'];
/** A safety bound for one container's run, not a timed assertion. */
const RUN_TIMEOUT = { timeout: 180_000 };

let images: BuiltImages;
const work = mkdtempSync(join(tmpdir(), 'streamqc-images-'));

before(
  async () => {
    images = await ensureImages();
  },
  { timeout: BUILD_TIMEOUT_MS },
);
after(() => rmSync(work, { recursive: true, force: true }));

function podman(args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  return runCommand('podman', args, { timeoutMs });
}

interface DefectEvent {
  type: string;
  start: number;
  end: number;
}

function events(r: CommandResult): DefectEvent[] {
  return r.stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as DefectEvent);
}

function assertOneBlackEvent(r: CommandResult, start: number, end: number): void {
  assert.equal(r.code, 0, r.stderr);
  const all = events(r);
  assert.deepEqual(
    all.map((e) => e.type),
    ['black'],
    r.stdout.toString('utf8'),
  );
  const black = all[0]!;
  assert.ok(Math.abs(black.start - start) <= FRAME + 0.05, `black starts at ${start} s: ${black.start}`);
  assert.ok(Math.abs(black.end - end) <= FRAME + 0.05, `black ends at ${end} s: ${black.end}`);
}

describe('analyzer image', () => {
  let clip: string;
  before(async () => {
    clip = await syntheticClip('image-black', {
      width: 320,
      height: 180,
      fps: 25,
      duration: 9,
      schedule: [{ type: 'black', start: 3, end: 6 }],
    });
  });

  test('--help prints the usage and exits 0', RUN_TIMEOUT, async (t) => {
    const started = performance.now();
    const r = await podman(['run', '--rm', ...RESTRICTED, images.analyzer.ref, '--help']);
    t.diagnostic(`analyzer start-up to exit (--help): ${((performance.now() - started) / 1000).toFixed(2)} s`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString('utf8'), /streamqc analyze INPUT/);
  });

  test('a bad argument exits 2 and names the flag', RUN_TIMEOUT, async () => {
    const r = await podman(['run', '--rm', ...RESTRICTED, images.analyzer.ref, 'analyze', '/x.ts', '--format', 'xml']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--format: \\?"xml\\?" is not one of jsonl, text/);
  });

  test(
    'a 3 s black stretch is one black event from 3 s to 6 s, as uid 65532, read-only, no network',
    RUN_TIMEOUT,
    async () => {
      const r = await podman([
        'run',
        '--rm',
        ...RESTRICTED,
        '--user=65532:65532',
        `--volume=${clip}:/media/clip.ts:ro`,
        images.analyzer.ref,
        'analyze',
        '/media/clip.ts',
      ]);
      assertOneBlackEvent(r, 3, 6);
    },
  );

  test(
    'ffmpeg and onnxruntime run inside: the ONNX feature graph (CUDA asked for, none here) finds the same event as uid 4242',
    RUN_TIMEOUT,
    async () => {
      const config = join(work, 'onnx.json');
      writeFileSync(config, JSON.stringify({ analysis: { gpu: true } }));
      const r = await podman([
        'run',
        '--rm',
        ...RESTRICTED,
        '--user=4242:4242',
        `--volume=${clip}:/media/clip.ts:ro`,
        `--volume=${config}:/config/analyzer.json:ro`,
        images.analyzer.ref,
        'analyze',
        '/media/clip.ts',
        '--config',
        '/config/analyzer.json',
      ]);
      // Only an onnxruntime session that opened on CPU after CUDA failed writes this line.
      assert.match(r.stderr, /feature graph: CUDA execution provider unavailable, running on CPU/);
      assertOneBlackEvent(r, 3, 6);
    },
  );
});

describe('operator image', () => {
  test('a bad flag exits 2 and names it', RUN_TIMEOUT, async () => {
    const r = await podman(['run', '--rm', ...RESTRICTED, images.operator.ref, '--http-port', 'nope']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--http-port: \\?"nope\\?" is not a non-negative number/);
  });

  test('serves /healthz without an API server, is not ready, and exits 0 on SIGTERM', RUN_TIMEOUT, async (t) => {
    const kubeconfig = join(work, 'kubeconfig');
    // An API server that refuses connections: the operator must still be alive and say why it is not ready.
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: none, user: {token: none}}]',
        'contexts: [{name: none, context: {cluster: none, user: none}}]',
        'current-context: none',
      ].join('\n'),
    );
    const name = `streamqc-smoke-operator-${process.pid}`;
    const started = performance.now();
    const run = await podman([
      'run',
      '--detach',
      `--name=${name}`,
      ...RESTRICTED,
      '--user=65532:65532',
      `--volume=${kubeconfig}:/config/kubeconfig:ro`,
      images.operator.ref,
      '--kubeconfig=/config/kubeconfig',
      '--http-port=8080',
    ]);
    assert.equal(run.code, 0, run.stderr);
    try {
      // No network: probed from inside the container, with the image's own node.
      const probe = async (path: string): Promise<string> => {
        const script = `fetch('http://127.0.0.1:8080${path}').then(async (r) => process.stdout.write(r.status + ' ' + (await r.text())), () => process.stdout.write('down'))`;
        return (await podman(['exec', name, 'node', '-e', script])).stdout.toString('utf8').trim();
      };
      let health = await probe('/healthz');
      // No bound of its own: the test's timeout is what fails an operator that never comes up.
      while (health !== '200 ok') {
        await new Promise((resolve) => setTimeout(resolve, 250));
        health = await probe('/healthz');
      }
      t.diagnostic(`operator start-up to /healthz: ${((performance.now() - started) / 1000).toFixed(2)} s`);
      assert.equal(await probe('/readyz'), '503 watches not open');
      const stopping = performance.now();
      // podman stop sends SIGTERM and, after 30 s, SIGKILL (exit 137): 0 means the operator stopped itself.
      const stop = await podman(['stop', '--time=30', name]);
      assert.equal(stop.code, 0, stop.stderr);
      t.diagnostic(`operator stop after SIGTERM: ${((performance.now() - stopping) / 1000).toFixed(2)} s`);
      const exit = await podman(['inspect', '--format={{.State.ExitCode}}', name]);
      assert.equal(exit.stdout.toString('utf8').trim(), '0', (await podman(['logs', name])).stderr);
    } finally {
      await podman(['rm', '--force', name]);
    }
  });
});

/**
 * The certificates of the CA bundle a build mounts (scripts/images.sh: NODE_EXTRA_CA_CERTS,
 * SSL_CERT_FILE or Debian's bundle) that are not public roots: a re-signing proxy's own CA.
 * Node's binary carries the public roots, so only the others say whether the bundle leaked.
 */
function privateCaLines(): string[] {
  const candidates = [process.env.NODE_EXTRA_CA_CERTS, process.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'];
  const bundleFile = candidates.find((f) => f !== undefined && f.length > 0);
  const pem = bundleFile === undefined ? '' : readFileSync(bundleFile, 'utf8');
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const publicBodies = new Set(rootCertificates.map(certBody));
  // One full base64 line from inside each certificate: long enough to be unique to it.
  return certs
    .filter((c) => !publicBodies.has(certBody(c)))
    .map((c) => c.split('\n').filter((line) => line.length === 64)[2])
    .filter((line): line is string => line !== undefined);
}

function certBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

test(
  'the CA bundle mounted for npm ci is in neither image, nor in its configuration',
  { timeout: 600_000 },
  async (t) => {
    const lines = privateCaLines();
    t.diagnostic(`${lines.length} certificate(s) of the build's CA bundle are not public roots`);
    const patterns = join(work, 'ca-lines');
    writeFileSync(patterns, lines.join('\n'));
    for (const image of [images.analyzer, images.operator]) {
      const config = await podman(['image', 'inspect', '--format={{json .Config}}', image.ref]);
      assert.equal(config.code, 0, config.stderr);
      assert.doesNotMatch(config.stdout.toString('utf8'), /NODE_EXTRA_CA_CERTS|npm_ca|SSL_CERT/);
      if (lines.length === 0) continue;
      const mount = await podman(['image', 'mount', image.ref]);
      assert.equal(mount.code, 0, mount.stderr);
      try {
        const found = await runCommand('grep', ['-rlF', '-f', patterns, mount.stdout.toString('utf8').trim()], {
          timeoutMs: 300_000,
        });
        // grep exits 1 when nothing matched, 0 with the files that hold a certificate.
        assert.equal(found.code, 1, `${image.ref} holds the build's CA: ${found.stdout.toString('utf8')}`);
      } finally {
        await podman(['image', 'unmount', image.ref]);
      }
    }
  },
);
