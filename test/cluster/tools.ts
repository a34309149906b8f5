// Locates (and on a fresh machine builds, once) the control-plane binaries: the build and
// its cache key live in scripts/cluster-tools.sh alone, which prints the bin directory.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './cluster.js';

export async function clusterToolsBinDir(): Promise<string> {
  const script = join(projectRoot, 'scripts', 'cluster-tools.sh');
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${script} failed with exit code ${code}; see its output above`);
  const binDir = stdout.trim().split('\n').at(-1);
  if (!binDir) throw new Error(`${script} printed no bin directory`);
  return binDir;
}
