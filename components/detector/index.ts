/**
 * The detector component's public face: what the hub (or `components/main.ts`) needs to
 * run it in-process. Everything else in this folder is its internals.
 */
export { DetectorComponent, detectorOptions, type DetectorOptions, type DetectorStats } from './detector-component.ts';
