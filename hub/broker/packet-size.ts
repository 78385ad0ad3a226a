/**
 * The broker's largest accepted MQTT packet (`mqtt.max_packet_size`): a packet whose
 * fixed header announces more is refused as soon as its remaining length is read —
 * before its body is buffered — and the connection is closed, as Mosquitto 2 does with
 * `max_packet_size` (MQTT 3.1.1 has no way to tell the client why; Mosquitto sends MQTT 5
 * clients DISCONNECT 0x95 first).
 *
 * aedes 1.x parses each connection with its own mqtt-packet `Parser` (`client._parser`),
 * which has no size limit (it buffers whatever length the header announces, up to MQTT's
 * 268 435 455 bytes). {@link limitPacketSize} wraps that parser's `_parseLength` step
 * (mqtt-packet 9 `parser.js`) on one connection.
 */
import type { Client } from 'aedes';

/** MQTT's own ceiling on the remaining length (§2.2.3: four length bytes), bytes. */
export const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

/** Raised on the connection (aedes `clientError` / `connectionError`) when a packet is too large. */
export class PacketTooLargeError extends Error {
  constructor(
    /** Size of the whole packet (fixed header + remaining length), bytes. */
    readonly size: number,
    /** The limit, bytes. */
    readonly max: number,
  ) {
    super(`packet of ${size} bytes exceeds max_packet_size ${max}`);
    this.name = 'PacketTooLargeError';
  }
}

/** The parts of mqtt-packet's `Parser` this module touches. */
interface ParserInternals {
  packet: { length: number };
  _parseLength: () => boolean;
  _emitError: (err: Error) => void;
}

/** Bytes of the remaining-length field for a value (MQTT 3.1.1 §2.2.3). */
function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/**
 * Refuses packets larger than `max` bytes on one aedes connection: the parser emits a
 * {@link PacketTooLargeError} (aedes then destroys the connection and emits
 * `clientError`, or `connectionError` before CONNECT), after `onRefused` was called once.
 * Size counts the whole packet, fixed header included (MQTT 5 §3.1.2.11.4's "Maximum
 * Packet Size"; Mosquitto 2.0 counts the remaining length + 1, so it lets packets up to
 * 3 bytes larger through).
 * @param client what `aedes.handle()` returned, before any data was read
 * @param max bytes, 2 … {@link MQTT_MAX_REMAINING_LENGTH} + 5
 * @throws Error when the client carries no mqtt-packet parser (an aedes without `_parser`)
 */
export function limitPacketSize(client: Client, max: number, onRefused: (client: Client, err: PacketTooLargeError) => void): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  if (!parser || typeof parser._parseLength !== 'function') throw new Error('aedes client has no mqtt-packet parser to limit');
  const parseLength = parser._parseLength;
  parser._parseLength = function limitedParseLength(this: ParserInternals): boolean {
    if (!parseLength.call(this)) return false;
    const size = 1 + lengthBytes(this.packet.length) + this.packet.length;
    if (size <= max) return true;
    const err = new PacketTooLargeError(size, max);
    onRefused(client, err);
    this._emitError(err);
    return false;
  };
}
