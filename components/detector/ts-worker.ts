/** Moved to `components/protocol/ts-worker.ts` (the camera component starts a worker too); re-exported for the detector's modules. */
export { spawnSiblingWorker } from '../protocol/ts-worker.ts';
