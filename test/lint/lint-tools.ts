/**
 * The Go-built linters of scripts/lint-tools.sh (actionlint, dashboard-check), built once into
 * the shared cache and run on files in the repository or in a test's temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));

let binDir: string | undefined;

/** The directory holding the built linters; builds them on first use (minutes when cold). */
export function lintToolsBin(): string {
  if (binDir !== undefined) return binDir;
  const built = spawnSync('bash', [join(projectRoot, 'scripts/lint-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error(`scripts/lint-tools.sh failed with exit code ${String(built.status)}`);
  binDir = built.stdout.trim();
  return binDir;
}

export interface ToolRun {
  status: number | null;
  output: string;
}

/** Runs a command and returns its exit status with stdout and stderr together. */
export function runTool(command: string, args: string[], cwd: string = projectRoot): ToolRun {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
