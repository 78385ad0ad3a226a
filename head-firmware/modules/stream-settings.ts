/** Stream settings (the seed's `rc_stream_settings`): resolution, frame rate and bitrate of the main stream. */
import { z } from 'zod';
import type { Drivers, StreamSettings } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

const RESOLUTION_RE = /^[1-9]\d{1,4}x[1-9]\d{1,4}$/;

/**
 * Declares `stream.resolution` (one of the camera's supported `WxH`, default 1280x720 when
 * supported, else the first), `stream.fps` (1–30, default 25) and `stream.bitrate_kbps`
 * (256–8000 kbit/s, default 2000). A change sends the whole setting to the encoder.
 * @throws when the camera reports no resolution or a malformed one.
 */
export function declareStreamSettings(store: StateStore, drivers: Pick<Drivers, 'camera'>): Teardown {
  const supported = drivers.camera.supportedResolutions();
  const [first, ...rest] = supported;
  if (first === undefined) throw new Error('the camera reports no supported resolution');
  const bad = supported.find((r) => !RESOLUTION_RE.test(r));
  if (bad !== undefined) throw new Error(`the camera reports a malformed resolution "${bad}" (expected WxH)`);
  const resolutions: [string, ...string[]] = [first, ...rest];
  store.declare({
    key: 'stream.resolution', schema: z.enum(resolutions), default: resolutions.includes('1280x720') ? '1280x720' : first, ...rw('camera'), persist: true,
    description: 'Stream resolution, px', ha: { component: 'select', options: [...resolutions], entity_category: 'config' },
  });
  store.declare({
    key: 'stream.fps', schema: z.number().int().min(1).max(30), default: 25, ...rw('camera'), persist: true,
    description: 'Stream frame rate, frames/s', ha: { component: 'number', unit: 'fps', min: 1, max: 30, step: 1, entity_category: 'config' },
  });
  store.declare({
    key: 'stream.bitrate_kbps', schema: z.number().int().min(256).max(8000), default: 2000, ...rw('camera'), persist: true,
    description: 'Stream bitrate, kbit/s',
    ha: { component: 'number', unit: 'kbit/s', device_class: 'data_rate', min: 256, max: 8000, step: 64, entity_category: 'config' },
  });
  const current = (): StreamSettings => ({
    resolution: store.get('stream.resolution') as string,
    fps: store.get('stream.fps') as number,
    bitrate_kbps: store.get('stream.bitrate_kbps') as number,
  });
  store.observe<string>('stream.resolution', (resolution) => drivers.camera.setStream({ ...current(), resolution }));
  store.observe<number>('stream.fps', (fps) => drivers.camera.setStream({ ...current(), fps }));
  store.observe<number>('stream.bitrate_kbps', (bitrate_kbps) => drivers.camera.setStream({ ...current(), bitrate_kbps }));
  return noop;
}
