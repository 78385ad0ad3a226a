/**
 * Frigate's PTZ commands (`rules.ts` `parsePtz`) as ONVIF PTZ requests on a profile:
 * `preset_<name>` → GotoPreset (the name looked up in GetPresets: exact, then ignoring
 * case, then as a token), `MOVE_*` → ContinuousMove of pan/tilt only, `ZOOM_*` →
 * ContinuousMove of zoom only (some cameras refuse both at once), `STOP` → Stop of both.
 */
import type { PtzCommand, PtzDirection } from '../../components/protocol/rules.ts';
import type { OnvifSession, PtzVelocity } from './device.ts';

/** Speed of `MOVE_*` and `ZOOM_*`: half the device's range in the generic velocity space (Frigate's 0.5). */
export const PTZ_SPEED = 0.5;

const VELOCITY: Record<PtzDirection, PtzVelocity> = {
  left: { x: -PTZ_SPEED, y: 0 },
  right: { x: PTZ_SPEED, y: 0 },
  up: { x: 0, y: PTZ_SPEED },
  down: { x: 0, y: -PTZ_SPEED },
  in: { zoom: PTZ_SPEED },
  out: { zoom: -PTZ_SPEED },
};

/**
 * Runs one command on `profile`.
 * @throws Error naming an unknown preset (with the device's preset names); OnvifError from the device
 */
export async function runPtz(session: OnvifSession, profile: string, cmd: PtzCommand): Promise<void> {
  switch (cmd.kind) {
    case 'stop':
      return session.stopMove(profile);
    case 'move':
      return session.continuousMove(profile, VELOCITY[cmd.direction]);
    case 'preset': {
      const presets = await session.presets(profile);
      const wanted = cmd.preset.toLowerCase();
      const preset = presets.find((p) => p.name === cmd.preset) ?? presets.find((p) => p.name.toLowerCase() === wanted) ?? presets.find((p) => p.token === cmd.preset);
      if (!preset) throw new Error(`no preset ${JSON.stringify(cmd.preset)}; the camera has ${presets.map((p) => p.name).join(', ') || 'none'}`);
      return session.gotoPreset(profile, preset.token);
    }
  }
}
