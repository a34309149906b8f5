/**
 * Which sources the transport checks apply to, through the whole analyzer: a TS file is read
 * as it is on disk (its PCRs time it) beside the decode; an MP4 or an RTMP source says the
 * checks do not apply, never that they pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../analyzer/config.js';
import type { ReportedEvent } from '../../analyzer/contract/status.js';
import { Analyzer } from '../../analyzer/pipeline.js';
import { cachedMedia } from '../media/fixtures.js';
import { constantRateClip, SOURCE_ARGS, VIDEO_ARGS, VIDEO_PID } from '../media/transport-clips.js';
import { dropAt, indicesOf, joinPackets, splitPackets } from '../media/ts-faults.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-transport-sources-'));

/** TR 101 290 defects are opt-in (analyzer/detectors/tr101290.ts): these tests turn both on. */
const TR101290_DEFECTS = { tr101290_priority1: { enabled: true }, tr101290_priority2: { enabled: true } };

async function analyze(input: string): Promise<{ analyzer: Analyzer; defects: ReportedEvent[] }> {
  const defects: ReportedEvent[] = [];
  const analyzer = new Analyzer(resolveConfig({ stream: 'file', detectors: TR101290_DEFECTS }), input, {
    log: pino({ level: 'silent' }),
    onDefect: (phase, event) => {
      if (phase === 'ended') defects.push(event);
    },
  });
  const result = await analyzer.run();
  assert.equal(result.exitCode, 0, result.message ?? undefined);
  return { analyzer, defects };
}

test(
  'a TS file with three video packets missing: three continuity errors, a priority 1 defect, timed by its PCRs',
  { timeout: 60_000 },
  async () => {
    const packets = splitPackets(await constantRateClip());
    const video = indicesOf(packets, VIDEO_PID).filter((i) => (packets[i]![3]! & 0x60) === 0);
    const file = join(dir, 'drops.ts');
    writeFileSync(file, joinPackets(dropAt(packets, [video[500]!, video[1500]!, video[2500]!])));
    const { analyzer, defects } = await analyze(file);
    const transport = analyzer.status().transport;
    assert.ok(transport?.applicable === true, JSON.stringify(transport));
    assert.equal(transport.arrivalTimed, false);
    assert.equal(transport.errors.continuity_count_error, 3);
    assert.deepEqual(
      Object.entries(transport.errors).filter(([, n]) => n > 0),
      [['continuity_count_error', 3]],
    );
    assert.deepEqual(
      defects.filter((d) => d.type.startsWith('tr101290')).map((d) => d.type),
      ['tr101290_priority1'],
    );
    assert.match(await analyzer.metrics.text(), /streamqc_transport_checks_applicable\{stream="file"\} 1/);
  },
);

test(
  'an MP4 file and an RTMP source: the transport checks do not apply, and say why',
  { timeout: 60_000 },
  async () => {
    const mp4 = await cachedMedia('transport-not-ts', 'mp4', (out) => [
      '-v',
      'error',
      '-y',
      ...SOURCE_ARGS(2),
      ...VIDEO_ARGS,
      '-c:a',
      'aac',
      out,
    ]);
    const { analyzer } = await analyze(mp4);
    assert.deepEqual(analyzer.status().transport, {
      applicable: false,
      reason: 'the file is mov,mp4,m4a,3gp,3g2,mj2, not an MPEG transport stream',
    });
    assert.match(await analyzer.metrics.text(), /streamqc_transport_checks_applicable\{stream="file"\} 0/);
    const rtmp = new Analyzer(resolveConfig({}), 'rtmp://127.0.0.1:1935/live/x', { log: pino({ level: 'silent' }) });
    assert.deepEqual(rtmp.status().transport, {
      applicable: false,
      reason: 'the transport checks read MPEG-TS from UDP, RTP, SRT, HTTP(S), HLS and files, not rtmp',
    });
  },
);

test('a UDP port another program holds: the run ends with exit code 1 naming the source and the reason', async () => {
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  try {
    const analyzer = new Analyzer(resolveConfig({}), `udp://127.0.0.1:${holder.address().port}`, {
      log: pino({ level: 'silent' }),
    });
    const result = await analyzer.run();
    assert.equal(result.exitCode, 1);
    assert.match(
      result.message ?? '',
      new RegExp(`cannot read udp://127.0.0.1:${holder.address().port}: bind EADDRINUSE`),
    );
  } finally {
    holder.close();
  }
});
