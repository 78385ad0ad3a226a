/**
 * The camera configuration that the hub publishes (retained) on
 * `vigil/camera/<cam>/config` and that the camera and detector components run from.
 *
 * One zod schema is the source of truth for the REST body of `/api/cameras`, the
 * database row and the bus message. Coordinates of zones and masks are normalized
 * (0–1, origin top-left) so they survive a change of detect size; areas are in px of
 * the detect frame when > 1 and a fraction of the frame area when ≤ 1 (Frigate's rule,
 * `frigate/config/camera/objects.py`).
 */
import { z } from 'zod';

/** A camera id: lower-case slug, used in topics and file paths. */
export const cameraName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lower-case slug (a-z, 0-9, _ and -), at most 64 characters')
  .refine((n) => n !== 'exports', 'exports is reserved (the recordings root holds exports/ beside the cameras)');

/**
 * An object label (`person`, `car`, COCO's `traffic light` …): it becomes a topic segment
 * (`vigil/camera/<cam>/<label>`, `vigil/zone/<zone>/<label>`), so not empty and without
 * `/`, `+`, `#`, control characters; at most 64 characters.
 */
export const objectLabel = z
  .string()
  .min(1, 'a label cannot be empty')
  .max(64)
  .regex(/^[^/+#\u0000-\u001f\u007f]+$/, 'a label cannot hold /, +, # or control characters');

/** A polygon in normalized coordinates: at least 3 `[x, y]` points, each 0–1. */
export const polygon = z
  .array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]))
  .min(3, 'a polygon needs at least 3 points');

/** Source URL of a path slot. rtsp/rtsps for cameras; file:// for a looping demo file. */
export const streamUrl = z
  .string()
  // Checked on the raw text: WHATWG URL parsing would silently drop tabs and newlines.
  .refine((u) => !/[\s\u0000-\u001f\u007f]/.test(u), 'no spaces or control characters')
  .refine((u) => /^(rtsps?|file):\/\//i.test(u), 'only rtsp://, rtsps:// and file:// URLs are allowed')
  .refine((u) => URL.canParse(u), 'not a valid URL');

/**
 * Per-label object filter. Scores 0–1; areas px (>1) or fraction of the frame (≤1).
 * Score defaults are set for the CenterNet model's scale (people in OpenCV's vtest.avi
 * score 0.42 median, 0.63 p90): Frigate's 0.5 / 0.7 suit its SSD models, not this one.
 */
export const objectFilter = z
  .object({
    /** Minimum score of a single detection to be considered at all (0–1). */
    min_score: z.number().min(0).max(1).default(0.4),
    /** Minimum median of the object's score history for it to become a true positive (0–1). */
    threshold: z.number().min(0).max(1).default(0.55),
    min_area: z.number().min(0).default(0),
    max_area: z.number().min(0).default(24_000_000),
  })
  .strict();
export type ObjectFilter = z.infer<typeof objectFilter>;

export const zoneConfig = z
  .object({
    name: cameraName,
    coordinates: polygon,
    /** Labels that count in this zone; empty = every tracked label. */
    objects: z.array(objectLabel).default([]),
    /** Minimum object score (0–1) to count in this zone; 0 = the object's own threshold. */
    threshold: z.number().min(0).max(1).default(0),
    /** Consecutive frames inside before an object enters the zone (Frigate's `inertia`). */
    inertia: z.number().int().min(1).max(30).default(3),
    /** Seconds an object must stay in the zone before it counts as loitering (dwell). */
    loitering_time: z.number().min(0).default(0),
  })
  .strict();
export type ZoneConfig = z.infer<typeof zoneConfig>;

export const maskConfig = z
  .object({
    name: z.string().min(1).max(64).default('mask'),
    coordinates: polygon,
    /** `motion`: pixels ignored by motion detection; `objects`: objects whose bottom-centre falls inside are dropped. */
    applies_to: z.enum(['motion', 'objects', 'both']).default('both'),
  })
  .strict();
export type MaskConfig = z.infer<typeof maskConfig>;

export const cameraPaths = z
  .object({
    detect: streamUrl.optional(),
    live: streamUrl.optional(),
    record: streamUrl.optional(),
    /**
     * Reserved: a two-way audio (backchannel) URL. Checked like the other slots, stored and
     * returned by the API, but two-way audio is not implemented — no component reads it
     * (a camera with only `talk` set is accepted yet never started).
     */
    talk: streamUrl.optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some(Boolean), 'at least one path slot (detect, live, record, talk) is needed');

/**
 * A camera's ONVIF block. The hub logs in with the camera's `username`/`password` (sealed
 * at rest like the RTSP credentials) and keeps one connection per camera while the
 * camera is `enabled`.
 */
export const onvifConfig = z
  .object({
    /**
     * The device service URL, `http(s)://host[:port]/onvif/device_service` (the XAddr
     * WS-Discovery reports). No credentials in it: they are the camera's `username`/`password`.
     */
    url: z
      .string()
      .max(2048)
      .refine((u) => !/[\s\u0000-\u001f\u007f]/.test(u), 'no spaces or control characters')
      .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'must be an http:// or https:// URL')
      .refine((u) => !URL.canParse(u) || !new URL(u).username, 'no credentials in the URL: set username and password'),
    /** Keep a PullPoint subscription and publish the device's events on `vigil/onvif/<cam>/event`. */
    events: z.boolean().default(true),
    /** Take PTZ commands on `vigil/camera/<cam>/ptz` (needs a PTZ-capable profile). */
    ptz: z.boolean().default(true),
  })
  .strict();
export type OnvifConfig = z.infer<typeof onvifConfig>;

/**
 * A camera's face recognition (Frigate 0.16's `face_recognition` block; see
 * `components/detector/faces/`). Scores are human's normalized descriptor similarity, 0–1.
 */
export const faceRecognitionConfig = z
  .object({
    /** Look for known faces in this camera's `person` objects. */
    enabled: z.boolean().default(false),
    /**
     * Minimum similarity (0–1) to the best enrolled image for a face to get that person's
     * name; below it the face is unknown. 0.6 sits between the best different-person
     * similarity (0.50) and the worst same-person one (0.62) measured on real photos
     * (`bench/faces.ts`), nearer the latter: a wrong name is worse than none. human's
     * FaceID demo uses 0.5, which let a different person through there.
     */
    recognition_threshold: z.number().min(0).max(1).default(0.6),
    /**
     * Smallest face looked at: width of the detected face box (BlazeFace's box, enlarged 1.4×
     * and squared by human), px of the detect frame. Frigate's `min_area` is an area; this is a width.
     */
    min_face_size: z.number().int().min(10).max(1000).default(40),
  })
  .strict();
export type FaceRecognitionConfig = z.infer<typeof faceRecognitionConfig>;

/**
 * A known-plate pattern of `lpr.known_plates`: letters A–Z and digits, compared ignoring case
 * and separators (space, `-`, `.`…), with shell-style wildcards `*` (any run), `?` (one
 * character) and `[S5]` / `[0-9]` / `[!O]` sets (see `components/detector/lpr/known-plates.ts`).
 */
export const knownPlatePattern = z
  .string()
  .min(1)
  .max(32)
  .refine((p) => /[A-Za-z0-9*?]/.test(p.normalize('NFKC')), 'a plate pattern needs a letter (A–Z), a digit or a wildcard (* ?)');

/**
 * A camera's licence plate recognition (Frigate 0.16's `lpr` block; see
 * `components/detector/lpr/`): plates inside `car` / `motorcycle` objects set the event's
 * `recognized_license_plate`, and a known plate's name its `sub_label`.
 */
export const lprConfig = z
  .object({
    /** Read plates in this camera's `car` and `motorcycle` objects. */
    enabled: z.boolean().default(false),
    /**
     * Smallest plate read: width of the plate's text line found by the OCR, px of the detect
     * frame (vehicles narrower than twice this are not looked at). 40 px: the real plate photo
     * of `bench/lpr.ts` (6 characters) reads right with a score ≥ 0.9 down to a 32 px line,
     * falls under 0.9 at 31 px and is not found below; 40 px keeps a margin for real camera
     * frames (compression, angle, night) — about 6 px per character of a 7-character plate.
     * Frigate's `min_area` (1000 px²) is an area of its plate detector's box; this is a width.
     */
    min_plate_size: z.number().int().min(16).max(1000).default(40),
    /** Minimum OCR score (mean character probability, 0–1) for a read to count (Frigate's `recognition_threshold`). */
    min_score: z.number().min(0).max(1).default(0.9),
    /**
     * Names for known plates, `{name: [pattern, …]}` (Frigate's `lpr.known_plates`): a read
     * matching a pattern sets the event's `sub_label` to the name (the first name in order wins).
     */
    known_plates: z.record(z.string().min(1).max(64), z.array(knownPlatePattern).min(1).max(50)).default({}),
  })
  .strict();
export type LprConfig = z.infer<typeof lprConfig>;

export const cameraConfig = z
  .object({
    name: cameraName,
    /** A name for people (the web UI shows it beside `name`, which stays the id in topics and paths); at most 64 characters. */
    friendly_name: z.string().trim().max(64).optional(),
    enabled: z.boolean().default(true),
    /**
     * Reserved: what the device is (`camera` | `camera_speaker` | `doorbell`), for the UI
     * and Home Assistant. Stored and returned by the API; nothing in the hub or the
     * components acts on it yet.
     */
    device_type: z.enum(['camera', 'camera_speaker', 'doorbell']).default('camera'),
    /**
     * Reserved: how streams are reached. `direct` (the default) is what every camera does
     * today — ffmpeg opens `paths.*` itself; `bridge` is reserved for go2rtc-style
     * restreaming and behaves like `direct`. Stored and returned by the API only.
     */
    connection_method: z.enum(['direct', 'bridge']).default('direct'),
    paths: cameraPaths,
    username: z.string().max(128).optional(),
    /** Plain on the way in; sealed (`sealed:v1:…`, AES-256-GCM) at rest and on the bus. */
    password: z.string().max(1024).optional(),
    detect: z
      .object({
        enabled: z.boolean().default(true),
        /** Width of decoded detect frames, px. */
        width: z.number().int().min(64).max(3840).default(640),
        /** Height, px; omitted = keep the stream's aspect ratio. */
        height: z.number().int().min(64).max(2160).optional(),
        /** Decoded frames per second. */
        fps: z.number().min(0.5).max(30).default(5),
        /**
         * `regions` (the default, Frigate's way): detect only inside square regions around
         * motion and moving tracked objects, each scaled to the model's region size — small
         * distant objects keep their pixels, and a frame with no motion and no moving object
         * costs no inference. Regions never cost more than one full-frame pass (a busier frame
         * is inferred whole); the first frame and then one every `interval_without_motion` s
         * are inferred whole (scans: they find what never moved, e.g. a parked car);
         * stationary objects get no region until motion touches them.
         * `full_frame`: every frame shrunk whole into the model's full-frame input.
         */
        mode: z.enum(['regions', 'full_frame']).default('regions'),
        /** Seconds between detections when there is no motion (the periodic check; a whole-frame scan in `regions` mode). */
        interval_without_motion: z.number().min(1).default(10),
        /** Seconds an object may go unseen before its event ends. */
        max_disappeared: z.number().min(0.5).default(3),
        /** Seconds an object must keep still to be `stationary`. */
        stationary_after: z.number().min(1).default(10),
      })
      .strict()
      .prefault({}),
    motion: z
      .object({
        enabled: z.boolean().default(true),
        /** Per-pixel luma difference (0–255) that counts as changed. */
        threshold: z.number().int().min(1).max(255).default(30),
        /** Fraction (0–1) of the motion frame's pixels that must change to be motion. */
        min_area: z.number().min(0).max(1).default(0.002),
        /** Seconds without motion before `…/motion` goes OFF. */
        off_delay: z.number().min(0).default(5),
      })
      .strict()
      .prefault({}),
    objects: z
      .object({
        track: z.array(objectLabel).default(['person', 'car']),
        filters: z.record(objectLabel, objectFilter).default({}),
      })
      .strict()
      .prefault({}),
    snapshots: z
      .object({ enabled: z.boolean().default(true), /** Seconds between `…/snapshot` frames. */ interval: z.number().min(1).default(10) })
      .strict()
      .prefault({}),
    record: z
      .object({
        /** Record the `record` path slot (falls back to `detect`) as MP4 segments, `-c copy`. */
        enabled: z.boolean().default(false),
        /** Segment length, s. */
        segment_seconds: z.number().int().min(10).max(600).default(60),
        /** What is kept beyond the event clips: every segment, segments with motion, or with tracked objects (Frigate's retain modes). */
        mode: z.enum(['continuous', 'motion', 'objects']).default('continuous'),
        /** Days a segment is kept, by the strongest thing in it. */
        retain_days: z
          .object({ continuous: z.number().min(0).default(3), motion: z.number().min(0).default(7), objects: z.number().min(0).default(14) })
          .strict()
          .prefault({}),
        /** Seconds of an event clip before the event starts and after it ends (Frigate's pre/post_capture). */
        pre_capture: z.number().min(0).max(60).default(5),
        post_capture: z.number().min(0).max(300).default(5),
        /** Make a clip (an export kept by `recordings.clip_retain_days`) for each event. */
        event_clips: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    zones: z.array(zoneConfig).default([]),
    masks: z.array(maskConfig).default([]),
    /** The camera's ONVIF device service, when it has one (the hub's ONVIF service: events, PTZ, relays). */
    onvif: onvifConfig.optional(),
    /** Known faces inside `person` objects (Frigate 0.16's `face_recognition`): sets the event's `sub_label`. */
    face_recognition: faceRecognitionConfig.prefault({}),
    /** Licence plates inside `car` / `motorcycle` objects (Frigate 0.16's `lpr`): sets `recognized_license_plate`, and `sub_label` for known plates. */
    lpr: lprConfig.prefault({}),
  })
  .strict();

/** A fully defaulted camera configuration. */
export type CameraConfig = z.infer<typeof cameraConfig>;
/** What a client may send (defaults not yet applied). */
export type CameraConfigInput = z.input<typeof cameraConfig>;

/** The filter for `label` on `cam`, with defaults for labels that have none. */
export function filterFor(cam: CameraConfig, label: string): ObjectFilter {
  return cam.objects.filters[label] ?? objectFilter.parse({});
}

const RTSP_URL = /^rtsps?:/i;

/**
 * The camera's live streams, by the URL each is read from. Live fMP4 is `-c copy`, so only
 * cameras (H.264/H.265 over RTSP) have one; a `file://` demo source (e.g. MPEG-4 part 2 in
 * AVI) cannot be copied into MP4 and gets MJPEG only.
 * @returns `main`: `paths.live ?? paths.detect ?? paths.record` when it is rtsp(s);
 *   `sub`: `paths.detect` when it is an rtsp(s) URL other than the main one (else
 *   undefined: the camera has no distinct sub stream, and `sub` means `main`).
 */
export function liveStreamUrls(config: Pick<CameraConfig, 'paths'>): { main?: string; sub?: string } {
  const p = config.paths;
  const main = p.live ?? p.detect ?? p.record;
  return {
    main: main && RTSP_URL.test(main) ? main : undefined,
    sub: p.detect && p.detect !== main && RTSP_URL.test(p.detect) ? p.detect : undefined,
  };
}
