/** The model's raw output, before filtering or tracking (detector-internal). */
import type { Box } from '../protocol/tracked-object.ts';

/** One detection from the model. */
export interface RawDetection {
  /** COCO label, e.g. `person`, `car`. */
  label: string;
  /** Model confidence, 0–1. */
  score: number;
  /** Box in px of the frame that was inferred. */
  box: Box;
}
