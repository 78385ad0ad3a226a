/**
 * Recording (the seed's `rc_recording_modus`, `rc_recording`): the keys only; the
 * head's recorder observes them.
 */
import { z } from 'zod';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

export const RECORDING_MODES = ['manual', 'continuous', 'motion'] as const;

/**
 * Declares `recording.mode` (persisted, default manual) and `recording.active` (recording
 * now; not persisted: a restart does not resume a manual recording).
 */
export function declareRecording(store: StateStore): Teardown {
  store.declare({
    key: 'recording.mode', schema: z.enum(RECORDING_MODES), default: 'manual', ...rw('recording'), persist: true,
    description: 'Recording mode', ha: { component: 'select', options: [...RECORDING_MODES], entity_category: 'config' },
  });
  store.declare({
    key: 'recording.active', schema: z.boolean(), default: false, ...rw('recording'), persist: false,
    description: 'Recording', ha: { component: 'switch' },
  });
  return noop;
}
