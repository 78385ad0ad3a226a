/**
 * The camera component's public face: what the hub (or `components/main.ts`) needs to run
 * it in-process. Everything else in this folder is its internals.
 */
export { CameraComponent, type CameraComponentOptions } from './camera-component.ts';
export type { LiveSink } from './camera-runner.ts';
