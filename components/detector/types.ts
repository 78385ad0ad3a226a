/**
 * Types shared by the detector's pieces: raw model output, tracked objects and the
 * Frigate-compatible event payload published on `vigil/events`.
 */

/** A box in px of the detect frame: `[x_min, y_min, x_max, y_max]` (Frigate's order). */
export type Box = [number, number, number, number];

/** One detection from the model, before filtering or tracking. */
export interface RawDetection {
  /** COCO label, e.g. `person`, `car`. */
  label: string;
  /** Model confidence, 0–1. */
  score: number;
  /** Box in px of the frame that was inferred. */
  box: Box;
}

/**
 * One tracked object's public state, with Frigate's field names
 * (`frigate/track/tracked_object.py` `to_dict`). Times are Unix seconds (float).
 */
export interface TrackedObjectState {
  id: string;
  camera: string;
  /** Capture time of the frame this state was computed from, Unix seconds. */
  frame_time: number;
  label: string;
  sub_label: string | null;
  /** Score of the latest detection, 0–1. */
  score: number;
  /** Highest computed score seen (the computed score is the median of the score history; Frigate `tracked_object.py`), 0–1. */
  top_score: number;
  /** True until the median score reaches the label's threshold. */
  false_positive: boolean;
  start_time: number;
  end_time: number | null;
  box: Box;
  /** Box area, px². */
  area: number;
  /** Box width / height. */
  ratio: number;
  current_zones: string[];
  entered_zones: string[];
  /** True while the object stays in a zone with `loitering_time` beyond that time. */
  loitering: boolean;
  has_snapshot: boolean;
  has_clip: boolean;
  stationary: boolean;
  /** Frames the object has kept still. */
  motionless_count: number;
  position_changes: number;
}

/** A message on `vigil/events`: one step of a tracked object's life. */
export interface EventMessage {
  type: 'new' | 'update' | 'end';
  before: TrackedObjectState;
  after: TrackedObjectState;
}
