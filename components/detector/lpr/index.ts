/**
 * Licence plate recognition (Frigate 0.16's LPR) for the detector component: the
 * {@link PlateEnricher} and what the bench and tests use of it.
 */
export { PlateEnricher, PLATE_LABELS, type PlateEnricherOptions } from './plate-enricher.ts';
export { compileKnownPlates, matchKnownPlate, type KnownPlates } from './known-plates.ts';
export { loadPlateModels, modelFiles, normalizePlate, readPlate, releasePlateModels, type PlateModels, type PlateReading, type ReadPlateOptions, type ReadPlateResult } from './plate-ocr.ts';
export { PlateOcrThread, type PlateOcrThreadOptions } from './ocr-thread.ts';
