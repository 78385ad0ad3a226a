/**
 * The answer shapes of `POST /api/cameras/probe` (the hub's connection test of a stream URL,
 * hub/services/stream-probe.ts), shared with the web UI, which shows them.
 */

/** One video or audio stream as the probe reports it. */
export interface ProbedStream {
  /** ffprobe's stream index. */
  index: number;
  type: 'video' | 'audio';
  /** ffprobe's codec name: `h264`, `hevc`, `mjpeg`, `aac`, `pcm_mulaw` … */
  codec: string | null;
  /** Codec profile (`High`, `Main`, `LC` …), or null. */
  profile: string | null;
  /** Picture size, px (null for audio or when unknown). */
  width: number | null;
  height: number | null;
  /** Frames/s from `avg_frame_rate`, else `r_frame_rate` (2 decimals), or null. */
  fps: number | null;
  /** Video: pixel format (`yuv420p` …). */
  pix_fmt?: string | null;
  /** Audio: sample rate, Hz. */
  sample_rate?: number | null;
  /** Audio: channel count. */
  channels?: number | null;
}
