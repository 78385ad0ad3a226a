/**
 * A raw MQTT connection for protocol tests: packets are written with `mqtt-packet`'s
 * `generate` (or as raw bytes, for malformed ones) on a plain TCP socket, and what the
 * broker answers is read back packet by packet with its parser — so a test sees exactly
 * which packets came (PUBACK, SUBACK return codes …) and whether the broker closed the
 * connection, which a client library would hide.
 */
import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** What came from the broker: a packet, `closed` (connection closed by the broker), or `timeout`. */
export type Answer = Packet | 'closed' | 'timeout';

/** One TCP connection to a broker, MQTT 3.1.1 unless `protocolVersion` says otherwise. */
export class RawMqtt {
  private readonly queue: Answer[] = [];
  private waiter?: (a: Answer) => void;
  private ended = false;
  /** Parser errors of the broker's answers (should stay empty). */
  readonly parseErrors: string[] = [];

  private constructor(private readonly socket: Socket, private readonly protocolVersion: 3 | 4 | 5) {
    const parser = mqttPacket.parser({ protocolVersion });
    parser.on('packet', (p: Packet) => this.push(p));
    parser.on('error', (e: Error) => this.parseErrors.push(e.message));
    socket.on('data', (d: Buffer) => parser.parse(d));
    socket.on('error', () => undefined);
    socket.on('close', () => { this.ended = true; this.push('closed'); });
  }

  private push(a: Answer): void {
    const w = this.waiter;
    if (w) { this.waiter = undefined; w(a); } else this.queue.push(a);
  }

  /** Opens a TCP connection to 127.0.0.1:`port`. @throws when the connection is refused. */
  static open(port: number, protocolVersion: 3 | 4 | 5 = 4): Promise<RawMqtt> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      s.once('connect', () => { s.off('error', reject); resolve(new RawMqtt(s, protocolVersion)); });
      s.once('error', reject);
    });
  }

  /** True once the broker (or we) closed the connection. */
  get closed(): boolean { return this.ended; }

  /** Writes one packet (mqtt-packet object form). */
  send(packet: Record<string, unknown>): void {
    this.socket.write(mqttPacket.generate(packet as unknown as Packet, { protocolVersion: this.protocolVersion }));
  }

  /** Writes raw bytes (malformed or hand-built packets). */
  sendRaw(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The next answer, or `timeout` after `ms`. After `closed`, every call answers `closed`. */
  next(ms = 2000): Promise<Answer> {
    const a = this.queue.shift();
    if (a !== undefined) return Promise.resolve(a);
    if (this.ended) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiter = undefined; resolve('timeout'); }, ms);
      this.waiter = (x) => { clearTimeout(timer); resolve(x); };
    });
  }

  /** Every answer until the connection closes or nothing comes for `quietMs`. */
  async drain(quietMs = 300): Promise<Answer[]> {
    const out: Answer[] = [];
    for (;;) {
      const a = await this.next(quietMs);
      if (a === 'timeout') return out;
      out.push(a);
      if (a === 'closed') return out;
    }
  }

  /** Sends CONNECT and returns the answer (CONNACK, or `closed`). */
  async connect(opts: { clientId?: string; clean?: boolean; username?: string; password?: string; keepalive?: number } = {}): Promise<Answer> {
    this.send({
      cmd: 'connect', protocolId: this.protocolVersion === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: this.protocolVersion,
      clientId: opts.clientId ?? `raw-${Math.random().toString(16).slice(2, 10)}`, clean: opts.clean ?? true, keepalive: opts.keepalive ?? 60,
      ...(opts.username !== undefined ? { username: opts.username } : {}), ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
    });
    return this.next(5000);
  }

  /** PINGREQ → true when PINGRESP comes (the connection is alive and the broker reads it). */
  async ping(ms = 2000): Promise<boolean> {
    this.send({ cmd: 'pingreq' });
    for (;;) {
      const a = await this.next(ms);
      if (a === 'closed' || a === 'timeout') return false;
      if (a.cmd === 'pingresp') return true;
    }
  }

  /** Closes the socket (no DISCONNECT). */
  destroy(): void { this.socket.destroy(); }
}

/** A compact description of an answer for comparing brokers: `connack:0`, `suback:1,128`, `puback`, `closed` … */
export function describeAnswer(a: Answer): string {
  if (a === 'closed' || a === 'timeout') return a;
  switch (a.cmd) {
    case 'connack': return `connack:${a.returnCode ?? a.reasonCode}`;
    case 'suback': return `suback:${(a.granted as Array<number | { qos: number }>).map((g) => (typeof g === 'number' ? g : g.qos)).join(',')}`;
    case 'puback': case 'pubrec': case 'pubcomp': return `${a.cmd}:${a.messageId}`;
    case 'publish': return `publish:${a.topic}`;
    default: return a.cmd;
  }
}

/**
 * A CONNECT packet built by hand: `mqtt-packet` refuses to generate a zero-length client
 * id with clean session 0 (it is what the broker must refuse). MQTT 3.1.1 §3.1.
 */
export function rawConnect(opts: { clientId: string; clean: boolean; protocolVersion?: 3 | 4; username?: string; password?: string; keepalive?: number }): Buffer {
  const v = opts.protocolVersion ?? 4;
  const str = (s: string | Buffer) => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
  const flags = (opts.username !== undefined ? 0x80 : 0) | (opts.password !== undefined ? 0x40 : 0) | (opts.clean ? 0x02 : 0);
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(opts.keepalive ?? 60);
  const body = Buffer.concat([
    str(v === 3 ? 'MQIsdp' : 'MQTT'), Buffer.from([v, flags]), keepalive, str(opts.clientId),
    ...(opts.username !== undefined ? [str(opts.username)] : []), ...(opts.password !== undefined ? [str(opts.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** The remaining-length field (MQTT 3.1.1 §2.2.3) of `n` bytes. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
