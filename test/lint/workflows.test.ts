// The GitHub workflows (.github/workflows) cannot run here, so they are linted: actionlint checks
// their syntax, expressions, action inputs and permissions, and runs shellcheck on every `run:`
// script. The release workflow's version gate (scripts/check-release-version.sh) runs for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintToolsBin, projectRoot, runTool } from './lint-tools.js';

/** shellcheck's path: actionlint silently skips scripts without it, so its absence is a failure. */
function shellcheck(): string {
  try {
    return execFileSync('bash', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('shellcheck is not installed (scripts/setup.sh installs Debian package shellcheck)');
  }
}

/** Lints the given workflow files, or with none every workflow of the repository. */
function actionlint(files: string[] = []): { status: number | null; output: string } {
  return runTool(join(lintToolsBin(), 'actionlint'), ['-no-color', `-shellcheck=${shellcheck()}`, ...files]);
}

test("the repository's workflows pass actionlint and shellcheck", () => {
  const { status, output } = actionlint();
  assert.equal(status, 0, `actionlint found problems:\n${output}`);
});

test('a broken workflow fails: an unknown context property and an unquoted variable in a script', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-actionlint-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const workflow = join(dir, 'broken.yml');
  writeFileSync(
    workflow,
    [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: echo "${{ github.no_such_property }}"',
      '      - run: rm -rf $TARGET/build',
      '',
    ].join('\n'),
  );
  const { status, output } = actionlint([workflow]);
  assert.equal(status, 1, output);
  assert.match(output, /no_such_property/);
  assert.match(output, /SC2086/, 'shellcheck ran on the run: script');
});

function releaseVersion(tag: string, root: string): { status: number | null; output: string } {
  return runTool('bash', [join(projectRoot, 'scripts/check-release-version.sh'), tag, root]);
}

test("a release tag must equal package.json's version, the chart's versions and the chart's image tags", (t) => {
  const ownVersion = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string })
    .version;
  const same = releaseVersion(`v${ownVersion}`, projectRoot);
  assert.deepEqual(same, { status: 0, output: `${ownVersion}\n` });

  const root = mkdtempSync(join(tmpdir(), 'streamqc-release-'));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
  });
  cpSync(join(projectRoot, 'package.json'), join(root, 'package.json'));
  mkdirSync(join(root, 'helm', 'streamqc'), { recursive: true });
  const chart = readFileSync(join(projectRoot, 'helm/streamqc/Chart.yaml'), 'utf8');
  writeFileSync(join(root, 'helm/streamqc/Chart.yaml'), chart.replace(/^appVersion: .*$/m, 'appVersion: "9.9.9"'));
  const values = readFileSync(join(projectRoot, 'helm/streamqc/values.yaml'), 'utf8');
  writeFileSync(join(root, 'helm/streamqc/values.yaml'), values.replace(/(gpuImage: \S+):\S+/, '$1:9.9.8'));
  const stale = releaseVersion(`v${ownVersion}`, root);
  assert.equal(stale.status, 1);
  assert.match(stale.output, new RegExp(`tag v${ownVersion} but Chart.yaml appVersion is '9.9.9'`));
  assert.match(stale.output, new RegExp(`tag v${ownVersion} but values.yaml analyzer.gpuImage tag is '9.9.8'`));
  assert.doesNotMatch(stale.output, /analyzer\.image tag|operator\.image\.tag|Chart\.yaml version /);

  const notSemver = releaseVersion(ownVersion, projectRoot);
  assert.equal(notSemver.status, 1);
  assert.match(notSemver.output, /is not v<semver>/);
});
