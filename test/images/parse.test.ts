/** What scripts/images.sh build prints, as ensureImages() reads it: a bad answer is a clear error, never undefined. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuiltImages } from './images.js';

const good = {
  analyzer: { ref: 'localhost/streamqc/analyzer:0123456789ab', archive: '/cache/images/analyzer-0123456789ab.tar' },
  operator: { ref: 'localhost/streamqc/operator:ba9876543210', archive: '/cache/images/operator-ba9876543210.tar' },
};

test('the JSON object with both images is read as it is', () => {
  assert.deepEqual(parseBuiltImages(`${JSON.stringify(good)}\n`), good);
});

test('output that is not JSON names the script and shows what it printed', () => {
  assert.throws(
    () => parseBuiltImages('Getting image source signatures\n{}'),
    /printed no JSON object on stdout: "Getting image/,
  );
});

test('a missing image or a ref of another name is named', () => {
  assert.throws(() => parseBuiltImages(JSON.stringify({ analyzer: good.analyzer })), /operator\.ref is undefined/);
  assert.throws(
    () => parseBuiltImages(JSON.stringify({ ...good, operator: good.analyzer })),
    /operator\.ref is "localhost\/streamqc\/analyzer:0123456789ab", not localhost\/streamqc\/operator:<hash>/,
  );
});

test('a relative archive path is refused', () => {
  assert.throws(
    () => parseBuiltImages(JSON.stringify({ ...good, analyzer: { ...good.analyzer, archive: 'analyzer.tar' } })),
    /analyzer\.archive is "analyzer.tar", not an absolute path/,
  );
});
