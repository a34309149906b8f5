/**
 * The picture a video stream declares in its sequence parameter set, read as a decoder reads
 * it: H.264 SPS (ITU-T H.264 7.3.2.1.1 with its VUI, E.1.1) and HEVC SPS (ITU-T H.265
 * 7.3.2.2.1, E.2.1). The cropped picture size and the frame rate of the VUI timing, which is
 * what ffprobe reports for a stream whose timestamps agree with that timing; so a segment probe
 * is answered without spawning ffprobe (0.24 s of CPU per spawn with Debian's, before it reads
 * a byte). No npm package reads both codecs' SPS with the VUI timing (mux.js reads the H.264
 * size only), and the syntax to the timing is short.
 */
import { unescapeRbsp } from '../transport/captions.js';

/** What a sequence parameter set says of the picture; frameRate null where it carries no timing. */
export interface DeclaredPicture {
  width: number;
  height: number;
  frameRate: number | null;
}

/**
 * The picture of an H.264 SPS NAL unit (its header byte first); null where the unit is not an
 * SPS or ends before its VUI (or its picture size) does.
 */
export function h264Picture(nal: Uint8Array): DeclaredPicture | null {
  if (((nal[0] ?? 0) & 0x1f) !== 7) return null;
  return readWhole(nal.subarray(1), (r) => {
    const profile = r.bits(8);
    r.skip(16); // constraint flags, level_idc
    r.ue(); // seq_parameter_set_id
    let chromaFormat = 1;
    let separatePlanes = false;
    if (H264_CHROMA_PROFILES.has(profile)) {
      chromaFormat = r.ue();
      if (chromaFormat > 3) return null; // reserved: ffmpeg refuses the SPS
      if (chromaFormat === 3) separatePlanes = r.flag();
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.skip(1); // qpprime_y_zero_transform_bypass_flag
      if (r.flag()) {
        for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) if (r.flag()) skipH264ScalingList(r, i < 6 ? 16 : 64);
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.skip(1);
      r.se();
      r.se();
      const cycle = r.ue();
      for (let i = 0; i < cycle; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.skip(1); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.flag() ? 1 : 0;
    if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
    r.skip(1); // direct_8x8_inference_flag
    const crop = r.flag() ? [r.ue(), r.ue(), r.ue(), r.ue()] : [0, 0, 0, 0];
    // Crop units (7-19 to 7-22): chroma samples, and frame lines where a map unit is a field pair.
    const [subWidth, subHeight] = separatePlanes ? [1, 1] : (SUBSAMPLING[chromaFormat] ?? [1, 1]);
    const [left = 0, right = 0, top = 0, bottom = 0] = crop;
    const width = widthMbs * 16 - subWidth * (left + right);
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - subHeight * (2 - frameMbsOnly) * (top + bottom);
    // E.1.1: frames per second = time_scale / (2 * num_units_in_tick), a tick being a field.
    const timing = r.flag() ? h264VuiTiming(r) : null;
    return picture(width, height, timing && timing.units > 0 ? timing.scale / (2 * timing.units) : null);
  });
}

/**
 * The picture of an HEVC SPS NAL unit (its two header bytes first); null where the unit is not
 * an SPS or ends before its VUI (or its picture size) does.
 */
export function hevcPicture(nal: Uint8Array): DeclaredPicture | null {
  if ((((nal[0] ?? 0) >> 1) & 0x3f) !== 33) return null;
  return readWhole(nal.subarray(2), (r) => {
    r.skip(4); // sps_video_parameter_set_id
    const subLayers = r.bits(3); // sps_max_sub_layers_minus1
    r.skip(1);
    skipProfileTierLevel(r, subLayers);
    r.ue(); // sps_seq_parameter_set_id
    const chromaFormat = r.ue();
    if (chromaFormat > 3) return null; // reserved: ffmpeg refuses the SPS
    const separatePlanes = chromaFormat === 3 && r.flag();
    const codedWidth = r.ue();
    const codedHeight = r.ue();
    const window = r.flag() ? [r.ue(), r.ue(), r.ue(), r.ue()] : [0, 0, 0, 0];
    const [subWidth, subHeight] = separatePlanes ? [1, 1] : (SUBSAMPLING[chromaFormat] ?? [1, 1]);
    const [left = 0, right = 0, top = 0, bottom = 0] = window;
    const width = codedWidth - subWidth * (left + right);
    const height = codedHeight - subHeight * (top + bottom);
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    const pocLsbBits = r.ue() + 4;
    const ordering = r.flag();
    // Per sub-layer DPB size, reorder and latency, then the coding and transform block sizes and depths.
    const orderings = ordering ? subLayers + 1 : 1;
    for (let i = 0; i < 3 * orderings + 6; i++) r.ue();
    if (r.flag() && r.flag()) skipHevcScalingListData(r);
    r.skip(2); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if (r.flag()) {
      r.skip(8); // pcm sample bit depths
      r.ue();
      r.ue();
      r.skip(1);
    }
    skipShortTermRefPicSets(r, r.ue());
    if (r.flag()) {
      const longTerm = r.ue();
      for (let i = 0; i < longTerm; i++) r.skip(pocLsbBits + 1);
    }
    r.skip(2); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    const timing = r.flag() ? hevcVuiTiming(r) : null;
    // E.3.1: pictures per second = time_scale / num_units_in_tick.
    return picture(width, height, timing && timing.units > 0 ? timing.scale / timing.units : null);
  });
}

/** profile_idc values whose SPS carries chroma format, bit depths and scaling lists (7.3.2.1.1). */
const H264_CHROMA_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** SubWidthC and SubHeightC by chroma_format_idc (H.264 table 6-1, H.265 table 6-1); 4:0:0 crops in luma samples. */
const SUBSAMPLING: Record<number, [number, number]> = { 0: [1, 1], 1: [2, 2], 2: [2, 1], 3: [1, 1] };

function picture(width: number, height: number, frameRate: number | null): DeclaredPicture | null {
  // A crop that leaves no picture is one ffmpeg ignores (it warns): left to ffprobe.
  return width > 0 && height > 0 ? { width, height, frameRate } : null;
}

/** Runs a read over an RBSP; null where it runs past the unit's end. */
function readWhole(escaped: Uint8Array, read: (r: BitReader) => DeclaredPicture | null): DeclaredPicture | null {
  try {
    return read(new BitReader(unescapeRbsp(escaped)));
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** H.264 E.1.1 up to timing_info: num_units_in_tick and time_scale, or null without timing. */
function h264VuiTiming(r: BitReader): { units: number; scale: number } | null {
  skipVuiStart(r);
  return r.flag() ? { units: r.bits(32), scale: r.bits(32) } : null;
}

/** H.265 E.2.1 up to vui_timing_info. */
function hevcVuiTiming(r: BitReader): { units: number; scale: number } | null {
  skipVuiStart(r);
  r.skip(3); // neutral_chroma_indication_flag, field_seq_flag, frame_field_info_present_flag
  if (r.flag()) for (let i = 0; i < 4; i++) r.ue(); // default display window
  return r.flag() ? { units: r.bits(32), scale: r.bits(32) } : null;
}

/** The VUI fields both codecs share before their timing: aspect ratio, overscan, signal type, chroma location. */
function skipVuiStart(r: BitReader): void {
  if (r.flag() && r.bits(8) === 255) r.skip(32); // aspect_ratio_idc Extended_SAR: sar_width, sar_height
  if (r.flag()) r.skip(1); // overscan_appropriate_flag
  if (r.flag()) {
    r.skip(4); // video_format, video_full_range_flag
    if (r.flag()) r.skip(24); // colour primaries, transfer, matrix
  }
  if (r.flag()) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
}

/** H.264 7.3.2.1.1.1 scaling_list(): the deltas until one ends the list. */
function skipH264ScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** H.265 7.3.4 scaling_list_data(). */
function skipHevcScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.flag())
        r.ue(); // scaling_list_pred_matrix_id_delta
      else {
        if (sizeId > 1) r.se(); // scaling_list_dc_coef_minus8
        const coefficients = Math.min(64, 1 << (4 + (sizeId << 1)));
        for (let i = 0; i < coefficients; i++) r.se();
      }
    }
  }
}

/** H.265 7.3.3 profile_tier_level(1, maxNumSubLayersMinus1). */
function skipProfileTierLevel(r: BitReader, subLayers: number): void {
  r.skip(96); // general profile (88 bits) and general_level_idc
  const present: [boolean, boolean][] = [];
  for (let i = 0; i < subLayers; i++) present.push([r.flag(), r.flag()]);
  if (subLayers > 0) r.skip(2 * (8 - subLayers));
  for (const [profile, level] of present) r.skip((profile ? 88 : 0) + (level ? 8 : 0));
}

/** H.265 7.3.7 st_ref_pic_set() for each of the SPS's sets; a predicted set's size follows from the one before (7-61). */
function skipShortTermRefPicSets(r: BitReader, count: number): void {
  let previous = 0;
  for (let idx = 0; idx < count; idx++) {
    let pictures = 0;
    if (idx !== 0 && r.flag()) {
      r.skip(1); // delta_rps_sign
      r.ue(); // abs_delta_rps_minus1
      for (let j = 0; j <= previous; j++) {
        const used = r.flag();
        if (used || r.flag()) pictures++;
      }
    } else {
      const negative = r.ue();
      const positive = r.ue();
      if (negative + positive > 32) throw new RangeError('st_ref_pic_set: more pictures than a DPB holds');
      for (let i = 0; i < negative + positive; i++) {
        r.ue(); // delta_poc_minus1
        r.skip(1); // used_by_curr_pic_flag
      }
      pictures = negative + positive;
    }
    previous = pictures;
  }
}

/**
 * Reads an RBSP bit by bit, most significant first, up to its rbsp_stop_one_bit (7.3.2.11);
 * reading further throws a RangeError, so a unit cut short never reads its trailing bits as fields.
 */
class BitReader {
  private at = 0;
  private readonly end: number;

  constructor(private readonly bytes: Uint8Array) {
    let last = bytes.length - 1;
    while (last >= 0 && bytes[last] === 0) last--;
    const byte = bytes[last] ?? 0;
    let trailingZeros = 0;
    while (trailingZeros < 8 && ((byte >> trailingZeros) & 1) === 0) trailingZeros++;
    this.end = last < 0 ? 0 : last * 8 + 7 - trailingZeros;
  }

  bits(n: number): number {
    if (this.at + n > this.end) throw new RangeError('parameter set ends early');
    let v = 0;
    for (let i = 0; i < n; i++, this.at++) v = v * 2 + (((this.bytes[this.at >> 3] ?? 0) >> (7 - (this.at & 7))) & 1);
    return v;
  }

  flag(): boolean {
    return this.bits(1) === 1;
  }

  skip(n: number): void {
    if (this.at + n > this.end) throw new RangeError('parameter set ends early');
    this.at += n;
  }

  /** ue(v), 9.1: leading zero bits, a one, then as many bits. */
  ue(): number {
    let zeros = 0;
    while (!this.flag()) {
      if (++zeros > 31) throw new RangeError('exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v), 9.1.1: ue mapped to 0, 1, -1, 2, -2, ... */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}
