/**
 * Well-formedness rules of MQTT 3.1.1 that aedes 1.x and mqtt-packet 9 do not enforce on
 * what a client sends, checked in the connection's parser as Mosquitto 2 does (it closes
 * the connection for each):
 *
 * - a UTF-8 string (topic name, topic filter, client id, user name, will topic) with
 *   ill-formed UTF-8, surrogates, or U+0000 — §1.5.3 [MQTT-1.5.3-1], [MQTT-1.5.3-2]: "the
 *   receiver MUST close the Network Connection". mqtt-packet decodes such bytes into
 *   U+FFFD and lets the packet through.
 * - a packet identifier of 0 in a PUBLISH (QoS > 0), SUBSCRIBE, UNSUBSCRIBE, PUBACK,
 *   PUBREC, PUBREL or PUBCOMP — §2.3.1 [MQTT-2.3.1-1]: it must be non-zero.
 *
 * A failed check makes the parser emit an error: aedes closes the connection and emits
 * `clientError` (or `connectionError` before CONNECT). The checks wrap mqtt-packet's
 * `_parseString` and `_parseMessageId` (mqtt-packet 9 `parser.js`) on one connection.
 */
import { isUtf8 } from 'node:buffer';
import type { Client } from 'aedes';

/** A string or packet identifier MQTT 3.1.1 forbids. */
export class MalformedPacketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPacketError';
  }
}

/** The parts of mqtt-packet's `Parser` this module touches. */
interface ParserInternals {
  _pos: number;
  _list: { slice: (start: number, end: number) => Buffer };
  packet: { messageId?: number };
  _parseString: (maybeBuffer?: boolean) => string | null;
  _parseMessageId: () => boolean;
  _emitError: (err: Error) => void;
}

/**
 * Makes one aedes connection's parser refuse ill-formed UTF-8, U+0000 and packet
 * identifier 0 (see the module comment). Costs two `indexOf` scans per string; the raw
 * bytes are looked at only when the decoded string holds U+FFFD.
 * @param client what `aedes.handle()` returned, before any data was read
 * @throws Error when the client carries no mqtt-packet parser (an aedes without `_parser`)
 */
export function enforceWellFormed(client: Client): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  if (!parser || typeof parser._parseString !== 'function' || typeof parser._parseMessageId !== 'function') throw new Error('aedes client has no mqtt-packet parser to check');
  const parseString = parser._parseString;
  const parseMessageId = parser._parseMessageId;
  parser._parseString = function checkedParseString(this: ParserInternals, maybeBuffer?: boolean): string | null {
    const start = this._pos + 2;
    const s = parseString.call(this, maybeBuffer);
    if (s === null) return s;
    // The caller sees null and emits its own error after this one ("Cannot parse topic" …).
    if (s.indexOf('\u0000') !== -1) { this._emitError(new MalformedPacketError('UTF-8 string holds U+0000')); return null; }
    if (s.indexOf('\ufffd') !== -1 && !isUtf8(this._list.slice(start, this._pos))) { this._emitError(new MalformedPacketError('ill-formed UTF-8 string')); return null; }
    return s;
  };
  parser._parseMessageId = function checkedParseMessageId(this: ParserInternals): boolean {
    if (!parseMessageId.call(this)) return false;
    if (this.packet.messageId !== 0) return true;
    this._emitError(new MalformedPacketError('packet identifier 0'));
    return false;
  };
}
