/**
 * The head's state modules, in start-up order (the C Pro seed's `initState`: factory
 * configuration first, then system, hardware, sensors, camera, recording, storage,
 * network, users, restart). `variants.ts` switches them on and off by these names.
 */
export const MODULE_NAMES = [
  'variant_info', 'system_info', 'version',
  'light', 'auto_rotate', 'disc_rotation',
  'head_sensors', 'diagnostics',
  'image', 'stream', 'zoom', 'pip',
  'recording', 'tag_categories',
  'storage',
  'network', 'time',
  'users',
  'restart', 'factory_reset',
] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];
