/**
 * The hub's one HTTP server. Requests go to the Express app unless a claimant (Node-RED's
 * own Express 4 app: mounting it into Express 5 breaks its `http in` nodes) takes their
 * path first; WebSocket upgrades (MQTT over WebSocket, the live view, Node-RED's editor)
 * are attached to {@link HubHttpServer.server} by their owners.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A handler that serves some paths of the server itself. */
export interface PathClaim {
  /** True when `url` (request target, query included) belongs to this handler. */
  handles(url: string | undefined): boolean;
  handler(req: IncomingMessage, res: ServerResponse): void;
}

export class HubHttpServer {
  readonly server: Server;
  private readonly claims: PathClaim[] = [];

  /** @param app the handler for every path no claimant takes (the REST API and pages). */
  constructor(app: RequestListener) {
    this.server = createServer((req, res) => {
      const claim = this.claims.find((c) => c.handles(req.url));
      if (claim) claim.handler(req, res);
      else app(req, res);
    });
  }

  /** Routes the paths `claim` handles to it, ahead of the app. */
  claim(claim: PathClaim): void {
    this.claims.push(claim);
  }

  /**
   * Listens on `host:port` (0 = a free port).
   * @returns the bound port.
   * @throws the listen error (`EADDRINUSE`, `EACCES`…).
   */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(port, host, () => { this.server.off('error', rej); res(); });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Drops every connection (keep-alive ones too) and closes the listener. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
