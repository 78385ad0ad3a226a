/**
 * Detection events per camera and label for Home Assistant's `event` entities:
 * `vigil/events` `new` and `end` messages are re-published (QoS 1, not retained — HA
 * drops replayed retained events) on `vigil/camera/<cam>/<label>/event` as
 * `{event_type: new|end, id, camera, label, score, zones, start_time, end_time, has_snapshot}`.
 * `update` messages are not relayed.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { EventListener } from '../services/event-feed.ts';

/** The JSON of `vigil/camera/<cam>/<label>/event`. */
export interface DetectionEvent {
  event_type: 'new' | 'end';
  id: string;
  camera: string;
  label: string;
  /** The object's `top_score`, 0–1. */
  score: number;
  /** Zones the object has entered. */
  zones: string[];
  start_time: number;
  end_time: number | null;
  has_snapshot: boolean;
}

/** The listener to register on the hub's event feed. */
export function detectionEventRelay(bus: Bus, topics: Topics, logger: Logger): EventListener {
  return ({ type, after: o }) => {
    if (type === 'update') return;
    let topic: string;
    try {
      topic = topics.cameraLabelEvent(o.camera, o.label);
    } catch (err) {
      logger.debug({ camera: o.camera, label: o.label, err: (err as Error).message }, 'event not relayed: label cannot be a topic segment');
      return;
    }
    const body: DetectionEvent = {
      event_type: type, id: o.id, camera: o.camera, label: o.label, score: o.top_score, zones: o.entered_zones,
      start_time: o.start_time, end_time: o.end_time ?? null, has_snapshot: o.has_snapshot,
    };
    bus.send(topic, body, { qos: 1 });
  };
}
