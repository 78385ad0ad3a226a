/**
 * MQTT over WebSocket at `/mqtt` when the broker is an external Mosquitto with dynamic
 * security (`mqtt.url` + `mqtt.dynamic_security`): the web UI and paired kiosks keep
 * connecting to the hub that served them, and the hub relays each connection, byte for
 * byte, to the broker.
 *
 * One packet is looked at: the CONNECT. A password that is one of the hub's session access
 * tokens (the web UI's, `auth-service.ts` `fromMqtt`) cannot be checked by Mosquitto, so
 * the hub checks it, and rewrites the CONNECT's username and password to those of a
 * Mosquitto client made for this connection ({@link SessionClients.openSession}: the
 * user's role, as the sync gives it; deleted, and so disconnected, when the connection
 * closes or the session ends). Any other CONNECT (a kiosk's device credential, a user's
 * password, an API key) goes through unchanged, and Mosquitto decides.
 */
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { generate, parser as packetParser, type IConnectPacket, type Packet } from 'mqtt-packet';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import { SESSION_TOKEN_SHAPE, type AuthService } from '../auth/auth-service.ts';
import type { Principal } from '../auth/principal.ts';
import { MQTT_WS_PATH } from './broker.ts';

/** Largest CONNECT the relay reads, bytes (credentials, a will): a client sending more before its CONNECT is dropped. */
const MAX_CONNECT_BYTES = 64 * 1024;

/** Mosquitto clients for relayed session connections ({@link DynsecSync}). */
export interface SessionClients {
  /** A client for one connection of `p`'s session: its MQTT username and password. */
  openSession(p: Principal): Promise<{ username: string; password: string }>;
  /** Deletes that client (the connection closed). */
  closeSession(username: string): Promise<void>;
}

/** What the relay needs. */
export interface WsRelayOptions {
  /** The broker (`mqtt.url`): `mqtt://`, `mqtts://`, `ws://` or `wss://`. */
  url: string;
  auth: AuthService;
  sessions: SessionClients;
  logger: Logger;
}

/**
 * Length of the MQTT packet at the start of `buf` (fixed header + remaining length,
 * MQTT 3.1.1 §2.2.3), or undefined while incomplete; NaN when the length is malformed.
 */
export function packetLength(buf: Buffer): number | undefined {
  let remaining = 0;
  for (let i = 1; i <= 4; i++) {
    if (buf.length <= i) return undefined;
    const b = buf[i]!;
    remaining += (b & 0x7f) * 128 ** (i - 1);
    if ((b & 0x80) === 0) return buf.length >= 1 + i + remaining ? 1 + i + remaining : undefined;
  }
  return Number.NaN;
}

/** Relays `/mqtt` WebSocket connections to the external broker. */
export class MqttWsRelay {
  private wss?: WebSocketServer;
  private readonly open = new Set<Duplex>();

  constructor(private readonly o: WsRelayOptions) {}

  /** Takes upgrade requests for {@link MQTT_WS_PATH} on `server`. */
  attach(server: HttpServer): void {
    const wss = new WebSocketServer({ noServer: true });
    this.wss = wss;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== MQTT_WS_PATH) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        this.take(stream, req.socket.remoteAddress ?? null);
      });
    });
  }

  /** Closes every relayed connection. */
  close(): void {
    for (const s of this.open) s.destroy();
    this.wss?.clients.forEach((c) => c.terminate());
    this.wss?.close();
  }

  /** Reads the CONNECT, then relays. */
  private take(client: Duplex, remote: string | null): void {
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const len = packetLength(buf);
      if (len === undefined && buf.length <= MAX_CONNECT_BYTES) return;
      client.off('data', onData);
      client.pause();
      if (len === undefined || Number.isNaN(len) || len > MAX_CONNECT_BYTES) { client.destroy(); return; }
      this.relay(client, buf.subarray(0, len), buf.subarray(len), remote).catch((err: Error) => {
        this.o.logger.warn({ remote, err: err.message }, 'mqtt relay: connection failed');
        client.destroy();
      });
    };
    client.on('data', onData);
  }

  private async relay(client: Duplex, first: Buffer, rest: Buffer, remote: string | null): Promise<void> {
    const { o } = this;
    const packet = parseOne(first);
    if (packet?.cmd !== 'connect') { client.destroy(); return; }
    let out = first;
    let session: string | undefined;
    const password = packet.password?.toString() ?? '';
    if (SESSION_TOKEN_SHAPE.test(password)) {
      const p = await o.auth.fromMqtt(packet.username ?? '', password);
      if (!p) {
        o.logger.warn({ remote, username: packet.username }, 'mqtt relay: session token refused');
        client.end(generate(packet.protocolVersion === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0x86 } : { cmd: 'connack', sessionPresent: false, returnCode: 4 }, { protocolVersion: packet.protocolVersion }));
        return;
      }
      const c = await o.sessions.openSession(p);
      session = c.username;
      out = generate({ ...packet, username: c.username, password: Buffer.from(c.password) }, { protocolVersion: packet.protocolVersion });
    }
    const closeSession = (): void => { if (session) void o.sessions.closeSession(session).catch(() => undefined); session = undefined; };
    if (client.destroyed) { closeSession(); return; }
    let upstream: Duplex;
    try {
      upstream = await openUpstream(o.url);
    } catch (err) {
      closeSession();
      throw err;
    }
    this.open.add(upstream);
    const done = (): void => {
      this.open.delete(upstream);
      client.destroy();
      upstream.destroy();
      closeSession();
    };
    upstream.on('error', done);
    upstream.on('close', done);
    client.on('error', done);
    client.on('close', done);
    upstream.write(out);
    if (rest.length) upstream.write(rest);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

/** The one packet in `bytes`, or undefined when it does not parse. */
function parseOne(bytes: Buffer): Packet | undefined {
  const p = packetParser({ protocolVersion: 5 }); // the CONNECT carries its own version
  let got: Packet | undefined;
  p.on('packet', (x: Packet) => { got ??= x; });
  p.on('error', () => undefined);
  p.parse(bytes);
  return got as IConnectPacket | undefined;
}

/** A byte stream to the broker of `url`. */
async function openUpstream(url: string): Promise<Duplex> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    const ws = new WebSocket(url, 'mqtt');
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    return createWebSocketStream(ws);
  }
  const tls = u.protocol === 'mqtts:';
  const port = Number(u.port) || (tls ? 8883 : 1883);
  const socket = tls ? tlsConnect({ host, port, servername: host }) : tcpConnect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => { socket.once(tls ? 'secureConnect' : 'connect', () => resolve()); socket.once('error', reject); });
  return socket;
}
