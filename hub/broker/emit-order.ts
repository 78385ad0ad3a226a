/**
 * Keeps aedes 1.x from dropping messages it delivers out of order.
 *
 * aedes numbers each PUBLISH when it takes it (`brokerCounter`, aedes-packet) and, per
 * client, drops any delivery whose number is not above the last one delivered (`dedupe` in
 * aedes `lib/client.js`: that is how a client with overlapping subscriptions gets a message
 * once). But a retained PUBLISH reaches the subscribers only after its retained copy is
 * stored (a promise), while a non-retained one goes at once: a retained message followed by
 * any other message overtakes nothing — it is delivered second, with the smaller number,
 * and dropped. Found by `test/fuzz-mqtt.test.ts` (a retained QoS 0 camera config never
 * reached the hub); with aedes 1.2.0 alone, a subscriber of a client alternating retained
 * QoS 0 and plain messages loses every retained one.
 *
 * {@link numberInEmitOrder} renumbers each message as it is handed to the subscribers
 * (`aedes.mq.emit`), from the same counter: numbers then rise in delivery order, and a
 * message matched by two subscriptions of one client keeps one number (still delivered
 * once). Retained messages sent at SUBSCRIBE carry no broker id and are never deduplicated.
 */
import type { Aedes } from 'aedes';

/** What this module touches in aedes and its mqemitter. */
interface AedesInternals {
  id: string;
  counter: number;
  mq: { emit: (packet: { brokerId?: string | null; brokerCounter?: number }, cb?: (err?: Error) => void) => void };
}

/**
 * Renumbers every message of this broker as it is emitted to subscribers (see the module
 * comment). Call once, right after `Aedes.createBroker`.
 * @throws Error when the broker has no mqemitter with `emit` (an aedes without `mq`)
 */
export function numberInEmitOrder(aedes: Aedes): void {
  const a = aedes as unknown as AedesInternals;
  if (!a.mq || typeof a.mq.emit !== 'function' || typeof a.counter !== 'number') throw new Error('aedes has no mqemitter to renumber');
  const emit = a.mq.emit.bind(a.mq);
  a.mq.emit = (packet, cb) => {
    if (packet.brokerId === a.id) packet.brokerCounter = ++a.counter;
    emit(packet, cb);
  };
}
