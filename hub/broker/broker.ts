/**
 * The embedded broker: aedes (MQTT 3.1.1) on a TCP port and MQTT over WebSocket at
 * `/mqtt` on the HTTP server. Policy hooks come from {@link BrokerPolicy}; packets larger
 * than `maxPacketSize` (`packet-size.ts`) and ill-formed strings or packet identifiers
 * (`parser-checks.ts`) close their connection.
 */
import { createServer, type Server as NetServer, type AddressInfo } from 'node:net';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import type { BrokerPolicy } from './policy.ts';
import { PacketTooLargeError, limitPacketSize } from './packet-size.ts';
import { enforceWellFormed } from './parser-checks.ts';
import { numberInEmitOrder } from './emit-order.ts';
import { WriteBatcher } from './write-batching.ts';
import { cacheTopicMatches } from './match-cache.ts';

/** Path of MQTT over WebSocket on the HTTP port. */
export const MQTT_WS_PATH = '/mqtt';

/** Default largest packet, bytes: `mqtt.max_packet_size`'s default (16 MiB). */
export const DEFAULT_MAX_PACKET_SIZE = 16 * 1024 * 1024;

export class EmbeddedBroker {
  private aedes?: Aedes;
  private tcp?: NetServer;
  private wss?: WebSocketServer;
  /** One writev per socket per event-loop turn (`write-batching.ts`). */
  private readonly batcher = new WriteBatcher();
  /** Bound TCP port (after start). */
  port = 0;

  /**
   * @param opts.maxPacketSize largest packet accepted from a client, bytes (whole packet);
   *   default {@link DEFAULT_MAX_PACKET_SIZE}. Larger: logged, connection closed.
   */
  constructor(private readonly opts: { host: string; port: number; policy: BrokerPolicy; logger: Logger; maxPacketSize?: number }) {}

  /** Starts aedes and the TCP listener. @throws when the port is in use. */
  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({ ...this.opts.policy.hooks(), heartbeatInterval: 60_000 });
    this.aedes = aedes;
    numberInEmitOrder(aedes); // a retained message is not dropped for arriving after a later one (`emit-order.ts`)
    cacheTopicMatches(aedes); // subscription matches per topic, until a subscription changes (`match-cache.ts`)
    // An oversize packet was logged by the policy already (once per client per window).
    aedes.on('clientError', (client, err) => { if (!(err instanceof PacketTooLargeError)) this.opts.logger.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'); });
    aedes.on('connectionError', (client, err) => { if (!(err instanceof PacketTooLargeError)) this.opts.logger.debug({ err: err.message }, 'mqtt connection error'); });
    aedes.on('clientDisconnect', (client) => this.opts.policy.forget(client));
    // No Nagle: MQTT packets are small and latency-bound (PUBACK then PUBLISH would wait ~40 ms for a delayed ACK).
    const tcp = createServer({ noDelay: true }, (socket) => {
      const client = aedes.handle(socket);
      this.batcher.attach(socket); // after handle(): its `readable` listener follows aedes' own
      this.limit(client);
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.opts.port, this.opts.host, () => { tcp.off('error', reject); resolve(); });
    });
    this.port = (tcp.address() as AddressInfo).port;
    this.opts.logger.info({ port: this.port }, 'embedded MQTT broker listening');
  }

  /** Serves MQTT over WebSocket at {@link MQTT_WS_PATH} on an HTTP server (upgrade requests only). */
  attachWebSocket(server: HttpServer): void {
    const aedes = this.requireAedes();
    const max = this.opts.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    // A WebSocket message larger than the largest packet is refused by ws before it is buffered whole (close 1009).
    const wss = new WebSocketServer({ noServer: true, maxPayload: max });
    this.wss = wss;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== MQTT_WS_PATH) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        const client = aedes.handle(stream, req);
        stream.on('error', (err: Error & { code?: string }) => {
          if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.opts.policy.packetTooLarge(client, undefined, max);
          ws.terminate();
        });
        this.limit(client);
      });
    });
  }

  /** Number of connected clients. */
  get clients(): number { return this.aedes?.connectedClients ?? 0; }

  /** Closes listeners and aedes (connected clients are dropped, firing their wills). */
  async stop(): Promise<void> {
    this.opts.policy.close();
    this.wss?.clients.forEach((c) => c.terminate());
    this.wss?.close();
    await new Promise<void>((resolve) => (this.aedes ? this.aedes.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }

  /** Applies `maxPacketSize` ({@link limitPacketSize}) and MQTT's well-formedness rules ({@link enforceWellFormed}) to a new connection. */
  private limit(client: Client): void {
    const max = this.opts.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    limitPacketSize(client, max, (c, err) => this.opts.policy.packetTooLarge(c, err.size, err.max));
    enforceWellFormed(client);
  }

  private requireAedes(): Aedes {
    if (!this.aedes) throw new Error('broker not started');
    return this.aedes;
  }
}
