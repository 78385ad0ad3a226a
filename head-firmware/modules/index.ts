/**
 * Declares the head's whole state: every module the variant switches on, in start-up
 * order (`names.ts`), with the variant's defaults.
 */
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { resolveVariant, type ResolvedVariant, type VariantConfigInput } from '../variants.ts';
import { declareAutoRotate } from './auto-rotate.ts';
import { all, type LifecycleHooks, type Teardown } from './common.ts';
import { declareDiagnostics } from './diagnostics.ts';
import { declareDiscRotation } from './disc-rotation.ts';
import { declareFactoryReset } from './factory-reset.ts';
import { declareHeadSensors } from './head-sensors.ts';
import { declareImageSettings } from './image-settings.ts';
import { declareLight } from './light.ts';
import type { ModuleName } from './names.ts';
import { declareNetwork } from './network.ts';
import { declarePip } from './pip.ts';
import { declareRecording } from './recording.ts';
import { declareRestart } from './restart.ts';
import { declareStorage } from './storage.ts';
import { declareStreamSettings } from './stream-settings.ts';
import { declareSystemInfo } from './system-info.ts';
import { declareTagCategories } from './tag-categories.ts';
import { declareTime } from './time.ts';
import { declareUsers } from './users.ts';
import { declareVariantInfo } from './variant-info.ts';
import { declareVersion } from './version.ts';
import { declareZoom } from './zoom.ts';

export { FACTORY_RESET_KEEP } from './tag-categories.ts';
export { MODULE_NAMES, type ModuleName } from './names.ts';
export type { LifecycleHooks, Teardown } from './common.ts';

type Declare = (store: StateStore, drivers: Drivers, hooks: LifecycleHooks, variant: ResolvedVariant) => Teardown;

const MODULES: Record<ModuleName, Declare> = {
  variant_info: (s, _d, _h, v) => declareVariantInfo(s, v),
  system_info: (s, d) => declareSystemInfo(s, d),
  version: (s, d) => declareVersion(s, d),
  light: (s, d) => declareLight(s, d),
  auto_rotate: (s, d) => declareAutoRotate(s, d),
  disc_rotation: (s, d) => declareDiscRotation(s, d),
  head_sensors: (s, d) => declareHeadSensors(s, d),
  diagnostics: (s) => declareDiagnostics(s),
  image: (s, d) => declareImageSettings(s, d),
  stream: (s, d) => declareStreamSettings(s, d),
  zoom: (s, d) => declareZoom(s, d),
  pip: (s, d) => declarePip(s, d),
  recording: (s) => declareRecording(s),
  tag_categories: (s) => declareTagCategories(s),
  storage: (s, d) => declareStorage(s, d),
  network: (s, d) => declareNetwork(s, d),
  time: (s, d) => declareTime(s, d),
  users: (s, d) => declareUsers(s, d),
  restart: (s, _d, h) => declareRestart(s, h),
  factory_reset: (s, _d, h) => declareFactoryReset(s, h),
};

/** What {@link declareAll} set up. */
export interface DeclaredState {
  variant: ResolvedVariant;
  /** Modules declared, in start-up order. */
  modules: ModuleName[];
  /** Stops every driver watch the modules started (sensor, disc, storage, clock, users feeds). */
  stop: Teardown;
}

/**
 * Declares every module `variant` switches on into `store` (which must be empty of
 * their keys), registers their observers on `drivers` and starts their driver feeds.
 * Call `store.load()` afterwards to restore persisted values.
 * @param variant the `variant` config block (`variants.ts`), e.g. `{ variant: 'EDU' }`; default DEFAULT.
 * @throws on a bad variant config, a default override no module uses or its schema refuses,
 *   or a module that cannot be declared (e.g. the camera reports no resolution); modules
 *   already started are stopped first.
 */
export function declareAll(store: StateStore, drivers: Drivers, hooks: LifecycleHooks, variant: VariantConfigInput = {}): DeclaredState {
  const v = resolveVariant(variant);
  store.overrideDefaults(v.defaults);
  const stops: Teardown[] = [];
  try {
    for (const name of v.modules) stops.push(MODULES[name](store, drivers, hooks, v));
    const unused = v.configDefaultKeys.filter((k) => !store.has(k));
    if (unused.length) throw new Error(`variant ${v.variant}: defaults for keys no enabled module declares: ${unused.join(', ')}`);
  } catch (err) {
    all(...stops)();
    throw err;
  }
  return { variant: v, modules: [...v.modules], stop: all(...stops) };
}
