/**
 * The embedded broker: aedes (MQTT 3.1.1) on a TCP port and MQTT over WebSocket at
 * `/mqtt` on the HTTP server. Policy hooks come from {@link BrokerPolicy}.
 */
import { createServer, type Server as NetServer, type AddressInfo } from 'node:net';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import type { BrokerPolicy } from './policy.ts';

/** Path of MQTT over WebSocket on the HTTP port. */
export const MQTT_WS_PATH = '/mqtt';

export class EmbeddedBroker {
  private aedes?: Aedes;
  private tcp?: NetServer;
  private wss?: WebSocketServer;
  /** Bound TCP port (after start). */
  port = 0;

  constructor(private readonly opts: { host: string; port: number; policy: BrokerPolicy; logger: Logger }) {}

  /** Starts aedes and the TCP listener. @throws when the port is in use. */
  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({ ...this.opts.policy.hooks(), heartbeatInterval: 60_000 });
    this.aedes = aedes;
    aedes.on('clientError', (client, err) => this.opts.logger.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (client, err) => this.opts.logger.debug({ err: err.message }, 'mqtt connection error'));
    aedes.on('clientDisconnect', (client) => this.opts.policy.forget(client));
    // No Nagle: MQTT packets are small and latency-bound (PUBACK then PUBLISH would wait ~40 ms for a delayed ACK).
    const tcp = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
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
    const wss = new WebSocketServer({ noServer: true });
    this.wss = wss;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== MQTT_WS_PATH) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        aedes.handle(stream, req);
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

  private requireAedes(): Aedes {
    if (!this.aedes) throw new Error('broker not started');
    return this.aedes;
  }
}
