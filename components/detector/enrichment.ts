/**
 * Enrichers: models that look inside a tracked object after the object model found it —
 * known faces inside `person` objects, licence plates inside `car` / `motorcycle` objects —
 * as Frigate 0.16 does (`frigate/data_processing/real_time/face.py`, `license_plate/`).
 *
 * The detector component calls {@link Enricher.enrich} with the object's box and the frame
 * it was seen in (never on its own event loop's hot path: enrichers run their models off
 * the event loop and the component does not wait for them before tracking the next
 * frame). A result sets the event's `sub_label` (`[name, score]`, Frigate's form) or
 * `recognized_license_plate`, and is published on `vigil/tracked_object_update`.
 */
import type { CameraConfig } from '../protocol/camera-config.ts';
import type { Box } from '../protocol/tracked-object.ts';

/** One object of one frame, offered to an enricher. */
export interface EnrichInput {
  camera: CameraConfig;
  object: {
    /** The tracked object's (event's) id. */
    id: string;
    label: string;
    /** Px of the frame. */
    box: Box;
    /** Object model score, 0–1. */
    score: number;
    /** True once the object has kept still (Frigate's `stationary`). */
    stationary: boolean;
    /** What enrichment already found for this object (sub_label name, plate text), if any. */
    sub_label: string | null;
  };
  /** The frame the object was seen in: the detect frame as JPEG, size in px. */
  frame: { jpeg: Buffer; width: number; height: number };
  /** Capture time of the frame, Unix seconds. */
  time: number;
}

/** What an enricher found. */
export type EnrichResult =
  | {
      type: 'face';
      /** The known person, or null for an unknown face (kept as a crop for enrolment). */
      name: string | null;
      /** Recognition score, 0–1 (1 − normalized descriptor distance). */
      score: number;
      /** The face box, px of the frame. */
      box: Box;
    }
  | {
      type: 'lpr';
      /** The plate text as read (upper case, no spaces). */
      plate: string;
      /** OCR score, 0–1 (mean of the characters' probabilities). */
      score: number;
      /** The name of a known plate (`lpr.known_plates`) it matched, else null. */
      name: string | null;
      /** The plate box, px of the frame. */
      box: Box;
    };

/** A model that looks inside tracked objects. */
export interface Enricher {
  readonly type: EnrichResult['type'];
  /** Cheap check, called for every object of every detected frame: is this object worth a look now? */
  wants(input: Omit<EnrichInput, 'frame'>): boolean;
  /**
   * Looks at the object in the frame (off the event loop).
   * @returns what was found, or null when nothing usable was (no face, face too small, no plate)
   * @throws never for bad images (logged, null returned); rejects only when the enricher is stopped
   */
  enrich(input: EnrichInput): Promise<EnrichResult | null>;
  /** Frees the models. */
  stop(): Promise<void>;
}
