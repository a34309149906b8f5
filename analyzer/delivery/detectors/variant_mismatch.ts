/**
 * variant_mismatch: a variant whose media is not what the multivariant playlist declares.
 * Its first segment is probed; RESOLUTION must match the picture, FRAME-RATE the frame rate
 * (RFC 8216 section 4.3.4.2 rounds it to three decimals), and every codec found must be
 * named in CODECS (by its RFC 6381 sample entry: avc1, hvc1, mp4a...). A player that trusts
 * the declaration picks a variant the device cannot show, or the wrong one for its screen.
 */
import { bool, type OptionTable } from '../../options.js';
import { defineDetector } from '../../detectors/detector.js';
import type { ProbedSegment } from '../observations.js';
import type { VariantDeclaration } from '../playlist.js';
import { RenditionConditions, type Detail } from './conditions.js';

export const variantMismatchOptions = {
  enabled: bool(true, 'Report variants whose probed media differs from their RESOLUTION, FRAME-RATE or CODECS'),
} satisfies OptionTable;

/** RFC 6381 sample entries by ffprobe codec name (the names CODECS may use for each). */
const SAMPLE_ENTRIES: Record<string, readonly string[]> = {
  h264: ['avc1', 'avc3'],
  hevc: ['hvc1', 'hev1'],
  av1: ['av01'],
  vp9: ['vp09'],
  aac: ['mp4a'],
  mp3: ['mp4a'],
  ac3: ['ac-3'],
  eac3: ['ec-3'],
  opus: ['opus'],
  flac: ['flac'],
};

/** The first difference between a declaration and a probed segment, or null. */
export function variantFault(declared: VariantDeclaration, probed: ProbedSegment): Detail | null {
  const { resolution, frameRate, codecs } = declared;
  if (resolution && probed.width !== null && probed.height !== null) {
    if (resolution.width !== probed.width || resolution.height !== probed.height) {
      return {
        field: 'RESOLUTION',
        declared: `${resolution.width}x${resolution.height}`,
        probed: `${probed.width}x${probed.height}`,
      };
    }
  }
  // Three decimals of the declaration, and a container's rate may be a rounded fraction.
  if (frameRate !== null && probed.frameRate !== null && Math.abs(frameRate - probed.frameRate) > 0.01 * frameRate) {
    return { field: 'FRAME-RATE', declared: frameRate, probed: Math.round(probed.frameRate * 1000) / 1000 };
  }
  if (codecs !== null) {
    const entries = codecs.split(',').map((c) => c.trim().split('.')[0]?.toLowerCase() ?? '');
    const missing = probed.codecs.find((c) => {
      const wanted = SAMPLE_ENTRIES[c];
      return wanted !== undefined && !wanted.some((w) => entries.includes(w));
    });
    if (missing !== undefined) return { field: 'CODECS', declared: codecs, probed: probed.codecs.join(',') };
  }
  return null;
}

export const variantMismatchDetector = defineDetector({
  type: 'variant_mismatch',
  options: variantMismatchOptions,
  create: (_options, { sink }) => {
    const conditions = new RenditionConditions('variant_mismatch', sink);
    return {
      type: 'variant_mismatch',
      onDelivery(o) {
        if (o.kind !== 'probed') return;
        const fault = variantFault(o.declared, o.probed);
        if (fault) conditions.instant(o.t, { rendition: o.rendition, ...fault });
      },
      flush() {
        // Instant events only.
      },
    };
  },
});
