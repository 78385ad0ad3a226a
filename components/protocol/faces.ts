/**
 * Known faces on the bus: the names, ids and messages the hub (which keeps the enrolled
 * images) and the detectors (which compute descriptors and recognize faces) share.
 *
 * - `vigil/faces/library/<name>/<id>` — an enrolled image, JPEG, retained, published by the hub;
 *   an empty payload = removed.
 * - `vigil/faces/descriptor/<name>/<id>` — a detector's outcome for that image, JSON
 *   {@link FaceDescriptorMessage}, retained; it carries the descriptor itself, so every
 *   detector matches against the same numbers and none recomputes what another did.
 * - `vigil/faces/unknown/<camera>/<id>` — a face a detector found and could not name, JPEG
 *   (the face with some margin), not retained; the hub keeps a bounded number for enrolment.
 *
 * Pure (zod only): browser code may import it.
 */
import { z } from 'zod';

/** A person's name as used in topics, file paths and `sub_label`: a lower-case slug; `unknown` is reserved. */
export const faceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lower-case slug (a-z, 0-9, _ and -), at most 64 characters')
  .refine((n) => n !== 'unknown', 'unknown is reserved (unknown faces live under faces/unknown)');

/** Id of an enrolled image (the hub makes it): 6–32 lower-case letters and digits. */
export const faceImageId = z.string().regex(/^[a-z0-9]{6,32}$/, 'must be 6–32 lower-case letters and digits');

/** Id of an unknown face crop (the detector makes it): `<capture time, Unix ms, 13 digits>-<8 hex>`. */
export const unknownFaceId = z.string().regex(/^\d{13}-[0-9a-f]{8}$/, 'must be <13-digit Unix ms>-<8 hex digits>');

/** Why a detector could not use an enrolled image. */
export const FACE_ERRORS = ['no_face', 'invalid_image', 'failed'] as const;

/** `vigil/faces/descriptor/<name>/<id>`: what a detector made of one enrolled image. */
export const faceDescriptorMessage = z.object({
  /** True when a face was found and described. */
  ok: z.boolean(),
  /** Why not, when `ok` is false: `no_face` (none found), `invalid_image` (could not decode), `failed` (the model failed). */
  error: z.enum(FACE_ERRORS).optional(),
  /** Detail of the error, for people. */
  message: z.string().max(500).optional(),
  /** Face detector score of the face used, 0–1. */
  face_score: z.number().min(0).max(1).optional(),
  /** The face box, `[x_min, y_min, x_max, y_max]` px of the image. */
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  /** The face descriptor (human's `faceres`, 1024 numbers) when `ok`. */
  descriptor: z.array(z.number()).max(4096).optional(),
  /** Which model made the descriptor (descriptors of different models do not compare). */
  model: z.string().max(100),
  /** SHA-256 (hex) of the image bytes the outcome is for: a replaced image makes it stale. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The detector's component id. */
  detector: z.string().max(200),
  /** When it was computed, Unix s. */
  time: z.number(),
});
export type FaceDescriptorMessage = z.infer<typeof faceDescriptorMessage>;
