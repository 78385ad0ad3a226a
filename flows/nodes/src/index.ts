/**
 * The entry of `flows/nodes/lib/vigil.js`, the one bundle every node file loads
 * (`build.mts` writes `flows/nodes/<name>.js` as `module.exports = require('./lib/vigil.js').nodes['<name>']`):
 * one copy of the protocol, zod and mqtt.js, and one `HubConnection` class shared by the config node and its users.
 */
import camera from './vigil-camera.ts';
import event from './vigil-event.ts';
import hub from './vigil-hub.ts';
import layout from './vigil-layout.ts';
import snapshot from './vigil-snapshot.ts';
import trigger from './vigil-trigger.ts';
import type { NodeAPI } from './lib/red.ts';

/** Every node file of the package (name without `.js`, as `package.json` lists them) → its module function. */
export const nodes: Record<string, (RED: NodeAPI) => void> = {
  'vigil-hub': hub,
  'vigil-event': event,
  'vigil-trigger': trigger,
  'vigil-layout': layout,
  'vigil-camera': camera,
  'vigil-snapshot': snapshot,
};
