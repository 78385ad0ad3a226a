/**
 * Building ffmpeg's arguments for a camera input (the binary is found by
 * `protocol/ffmpeg-path.ts`). User text never becomes an ffmpeg
 * argument except the input URL, which the camera schema limits to rtsp/rtsps/file.
 */
import { fileURLToPath } from 'node:url';

/** Adds credentials to an rtsp(s) URL (percent-encoded). file:// URLs are returned unchanged. */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username || !/^rtsps?:/i.test(url)) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password ?? '');
  return u.toString();
}

/** Input arguments for a source URL: RTSP over TCP with a socket timeout, or a looping file at native rate. */
export function inputArgs(url: string, opts: { socketTimeoutMs?: number } = {}): string[] {
  // The only user text that reaches ffmpeg: an rtsp/rtsps/file URL, never an option.
  if (!/^(rtsps?|file):\/\/[^\s\u0000-\u001f]+$/i.test(url)) throw new Error('camera URL refused: only rtsp://, rtsps:// or file:// without spaces or control characters');
  if (/^file:/i.test(url)) return ['-re', '-stream_loop', '-1', '-i', fileURLToPath(url)];
  const timeoutUs = String((opts.socketTimeoutMs ?? 5000) * 1000);
  // ffmpeg 5+: `-timeout` is the RTSP socket I/O timeout in µs (was `-stimeout`).
  return ['-rtsp_transport', 'tcp', '-timeout', timeoutUs, '-i', url];
}

/** What one ffmpeg produces from one input. */
export interface InputOutputs {
  /** Detect frames: RGB24 raw video on fd 1 at `fps`, scaled to `width`×`height` px (`height` omitted: aspect kept). */
  detect?: { width: number; height?: number; fps: number };
  /** Recording: `-c copy` fragmented-MP4 segments of `segmentSeconds` s into `dir` (`%06d.mp4`), the segment list (CSV) on fd 3. */
  record?: { dir: string; segmentSeconds: number };
  /** Live: `-c copy` fragmented MP4 on fd 4 (≈200 ms fragments) for MSE viewers. */
  live?: boolean;
}

/** movflags that make MP4 fragmented and self-initializing: playable while written and after a crash. */
export const FRAGMENTED_MP4 = '+frag_keyframe+empty_moov+default_base_moof';

/**
 * Full argument list for one camera input with any mix of outputs (one ffmpeg per
 * input, whatever reads it). `-progress` on fd 5 is the heartbeat of inputs without detect.
 */
export function inputProcessArgs(url: string, out: InputOutputs): string[] {
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', ...inputArgs(url)];
  if (out.detect) {
    const scale = `scale=${out.detect.width}:${out.detect.height ?? -2}`;
    args.push('-map', '0:v:0', '-an', '-sn', '-dn', '-vf', `fps=${out.detect.fps},${scale}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1');
  }
  if (out.record) {
    args.push(
      // Video only: cameras' G.711 audio cannot be copied into MP4 (transcoding it is future work).
      '-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_time', String(out.record.segmentSeconds),
      '-reset_timestamps', '1', '-segment_format', 'mp4', '-segment_format_options', `movflags=${FRAGMENTED_MP4}`,
      '-segment_list', 'pipe:3', '-segment_list_type', 'csv', `${out.record.dir}/%06d.mp4`,
    );
  }
  if (out.live) args.push('-map', '0:v:0', '-c', 'copy', '-f', 'mp4', '-movflags', FRAGMENTED_MP4, '-frag_duration', '200000', 'pipe:4');
  args.push('-progress', 'pipe:5', '-stats_period', '1');
  return args;
}
