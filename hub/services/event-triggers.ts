/**
 * Synthetic events into the rules engine: `POST /api/events/trigger` checks the event
 * ({@link normalizeTrigger}: `{camera, topic, property_op?, data? | payload?}`) and
 * publishes it normalized on `vigil/event/trigger`, where the `vigil trigger` Node-RED node
 * and the simple rules pick it up (ONVIF cameras' events arrive the same way on
 * `vigil/onvif/<cam>/event`). Clients may also publish on the trigger topic themselves.
 */
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { normalizeTrigger, type TriggerEvent } from '../../components/protocol/rules.ts';
import { InvalidInput, NotFound } from '../errors.ts';

export class EventTriggers {
  /** @param cameraExists true for a configured camera */
  constructor(private readonly bus: Bus, private readonly topics: Topics, private readonly cameraExists: (name: string) => boolean) {}

  /**
   * Normalizes and publishes a synthetic event (QoS 1, not retained).
   * @returns the event as published
   * @throws InvalidInput (field named), NotFound (unknown camera)
   */
  async fire(raw: unknown): Promise<TriggerEvent> {
    const r = normalizeTrigger(raw);
    if (!r.ok) throw new InvalidInput(r.error, r.field);
    if (!this.cameraExists(r.event.camera)) throw new NotFound(`no camera ${r.event.camera}`);
    await this.bus.publish(this.topics.eventTrigger(), r.event, { qos: 1 });
    return r.event;
  }
}
