/**
 * The analyzer and operator images for tests that run them: built, or reused when their inputs
 * are unchanged, by scripts/images.sh (podman, no registry; see images/README.md).
 *
 *   const { analyzer, operator } = await ensureImages();
 *   analyzer.ref      localhost/streamqc/analyzer:<hash of its inputs>
 *   analyzer.archive  a `podman save` docker-archive of it (for `ctr images import`)
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuiltImage {
  /** The image's name in podman's local storage. */
  ref: string;
  /** Absolute path of a docker-archive tar of it, cached with it. */
  archive: string;
}

export interface BuiltImages {
  analyzer: BuiltImage;
  operator: BuiltImage;
}

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The containers.conf scripts/images.sh writes (runc, the host's nofile/nproc limits): podman on
 * these VMs needs it for every container it runs, not only for builds.
 */
export const containersConf = join(
  process.env.STREAMQC_CACHE_DIR ?? join(homedir(), '.cache', 'streamqc'),
  'images',
  'containers.conf',
);

let built: Promise<BuiltImages> | undefined;

/**
 * Builds the images when their inputs changed (minutes, once per change) and returns them; also
 * points this process's podman calls at the script's containers.conf. One build per process.
 */
export function ensureImages(): Promise<BuiltImages> {
  built ??= runImagesScript().then((images) => {
    process.env.CONTAINERS_CONF = containersConf;
    return images;
  });
  return built;
}

function runImagesScript(): Promise<BuiltImages> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts', 'images.sh'), 'build'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`scripts/images.sh build exited with ${code}: ${stderr.slice(-3000)}`));
        return;
      }
      try {
        resolve(parseBuiltImages(stdout));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** The script's one JSON line, checked: a consumer gets a clear error rather than `undefined` later. */
export function parseBuiltImages(stdout: string): BuiltImages {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(
      `scripts/images.sh build printed no JSON object on stdout: ${JSON.stringify(stdout.slice(0, 200))}`,
    );
  }
  return { analyzer: builtImage(parsed, 'analyzer'), operator: builtImage(parsed, 'operator') };
}

function builtImage(parsed: unknown, name: keyof BuiltImages): BuiltImage {
  const entry = (parsed as Record<string, unknown> | null)?.[name] as Record<string, unknown> | undefined;
  const ref = entry?.ref;
  const archive = entry?.archive;
  if (typeof ref !== 'string' || !ref.startsWith(`localhost/streamqc/${name}:`)) {
    throw new Error(
      `scripts/images.sh build: ${name}.ref is ${JSON.stringify(ref)}, not localhost/streamqc/${name}:<hash>`,
    );
  }
  if (typeof archive !== 'string' || !archive.startsWith('/')) {
    throw new Error(`scripts/images.sh build: ${name}.archive is ${JSON.stringify(archive)}, not an absolute path`);
  }
  return { ref, archive };
}
