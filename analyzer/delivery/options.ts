/**
 * The options of the analyzer's HLS client (config block `delivery`). The rendition to decode
 * is a name, not a number, so it sits beside the option table with its own schema.
 */
import { bool, choice, num, schemaOf, defaultsOf, type OptionTable, type OptionValues } from '../options.js';

export const deliveryOptions = {
  enabled: bool(
    true,
    "follow an HLS or DASH source (a .m3u8, .m3u or .mpd URL, or one served as a playlist or an MPD) with the analyzer's own client: every rendition is checked, the chosen one is decoded from the fetched segments",
  ),
  probe: bool(
    true,
    'probe the first segment of each variant and of each discontinuity against its declared RESOLUTION, CODECS and FRAME-RATE',
  ),
  segmentChecks: choice(
    'decoded',
    ['decoded', 'all'],
    "decoded: only the decoded rendition's segments are downloaded; the others get a HEAD per segment (status, size, time to first byte) and a full fetch where probed. all: every segment of every rendition is downloaded",
  ),
  multivariantReload: num(
    10,
    1,
    3600,
    'seconds between reloads of the multivariant playlist (a removed variant is seen)',
    {
      unit: 's',
    },
  ),
} satisfies OptionTable;

/** `highest`: the variant with the largest BANDWIDTH; otherwise a rendition's name as /status shows it. */
export const HIGHEST = 'highest';
export const RENDITION_NAME_PATTERN = '^[A-Za-z0-9._-]{1,32}$';

export type DeliveryConfig = OptionValues<typeof deliveryOptions> & { rendition: string };

export function deliverySchema(): Record<string, unknown> {
  const table = schemaOf(deliveryOptions) as { properties: Record<string, unknown> };
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...table.properties,
      rendition: {
        type: 'string',
        pattern: RENDITION_NAME_PATTERN,
        default: HIGHEST,
        description: `the rendition decoded for the picture and sound checks: ${HIGHEST} (largest BANDWIDTH) or a rendition name (e.g. 720p)`,
      },
    },
  };
}

export function defaultDeliveryConfig(): DeliveryConfig {
  return { ...defaultsOf(deliveryOptions), rendition: HIGHEST };
}
