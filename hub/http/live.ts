/**
 * Live view transports on the hub's HTTP server, on top of the per-camera
 * {@link LiveFeed}s:
 *
 * - **MSE over WebSocket** (main path): `GET /api/cameras/<name>/live?stream=main|sub`
 *   with `Upgrade: websocket`. `stream` picks the camera's main stream (default) or its
 *   sub stream (`paths.detect` when it is a distinct RTSP URL: smaller, for the small
 *   cells of a camera wall); a camera without a distinct sub stream answers `sub` with
 *   its main stream. Any other `stream` value is refused with 400 JSON
 *   (`validation_failed`, field `stream`). The server sends a text message
 *   `{"type":"init","codec":"avc1.42c01f","mime":"video/mp4; codecs=\"avc1.42c01f\"","stream":"main"}`
 *   (`stream`: the stream actually served), then binary messages, each one whole ISO-BMFF
 *   unit: the init segment, then at once the fragments since the most recent keyframe
 *   (the feed's GOP cache, first one a keyframe), then each new fragment. A new `init`
 *   text message later means the camera's ffmpeg restarted: the client starts over (new
 *   SourceBuffer). Pings every 30 s.
 *
 *   **Players should seek to the live edge**: thanks to the GOP cache a new viewer can
 *   decode at once, but it starts with up to one GOP (e.g. 1–4 s) of video behind the
 *   live edge. Once the first fragments are appended, set
 *   `video.currentTime = buffered.end(buffered.length - 1) - 0.1` (the decoder still
 *   starts from the cached keyframe; the frames before the edge are decoded, not shown).
 *   `/live.html` does this.
 * - **MJPEG over HTTP** (fallback): `GET <mount>/:name/live.mjpeg`
 *   (`multipart/x-mixed-replace`), and `GET <mount>/:name/live.jpg`, the newest frame.
 *   Main stream only (the JPEGs are the camera's detect frames); no `stream` parameter.
 *
 * Cameras run by the in-process camera component and by a camera process elsewhere are
 * served alike: for the latter, each viewer holds a watch ({@link LiveRegistry.watch}) that
 * makes the hub lease the camera's media over the bus (`hub/live/live-over-bus.ts`).
 *
 * Each request is checked by the `authorize` callback (the hub wires its session, bearer,
 * API-key or `?token=` media-token check). Backpressure is per viewer (see
 * {@link LiveFeed}): ws `bufferedAmount` and `res.writableLength` are the viewers'
 * `buffered()`.
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { LIVE_STREAMS, type LiveRegistry, type LiveStream, type ViewerSink } from '../live/live-feed.ts';
import { ApiError } from './errors.ts';

/** Outcome of {@link LiveOptions.authorize}. */
export type LiveAuthResult = 'ok' | 'unauthenticated' | 'forbidden' | 'not_found';

/** Options of {@link attachLive} and {@link liveRouter}. */
export interface LiveOptions {
  /**
   * May this request watch `camera`? Called once per WebSocket upgrade / HTTP request
   * (express `req` for the routes, the raw upgrade request for the WebSocket; read a
   * `?token=` from `req.url`). Answers map to 200 / 401 / 403 / 404. A rejection is a 500.
   */
  authorize: (req: IncomingMessage, camera: string) => Promise<LiveAuthResult>;
  /**
   * Feeds to serve (the hub's registry, shared with the in-process camera component and
   * the bus source of cameras run elsewhere). Whether a camera has a distinct sub stream
   * is read from it ({@link LiveRegistry.forViewer}); each viewer is announced with
   * {@link LiveRegistry.watch} while connected, so a remote camera publishes only while watched.
   */
  registry: LiveRegistry;
  /** Logger (connects, disconnects, refusals at debug; failures at warn). */
  logger: Logger;
  /** WebSocket ping interval, ms; a client missing one pong is dropped. Default 30 000. */
  pingIntervalMs?: number;
}

/** Handle returned by {@link attachLive}. */
export interface LiveAttachment {
  /** Open live WebSockets. */
  clients(): number;
  /** Stops handling upgrades and drops every live WebSocket. */
  close(): void;
}

/** Path of the live WebSocket; group 1 is the URL-encoded camera name. */
export const LIVE_WS_PATH = /^\/api\/cameras\/([^/]+)\/live\/?$/;
/** `live.jpg` answers at once with a JPEG younger than this, ms; else it waits for the next one. */
const FRESH_JPEG_MS = 2000;
/** How long `live.jpg` waits for a new JPEG, ms (then the stale one, or 503). */
const WAIT_JPEG_MS = 2000;
/** A remote camera keeps sending JPEGs this long after a `live.jpg`, ms (as `LiveFeed.nextJpeg` marks JPEGs wanted for 10 s). */
const JPEG_LINGER_MS = 10_000;
/** Multipart boundary of the MJPEG stream. */
export const MJPEG_BOUNDARY = 'vigil-mjpeg-frame';

const AUTH_STATUS: Record<Exclude<LiveAuthResult, 'ok'>, [number, string, string]> = {
  unauthenticated: [401, 'unauthorized', 'log in or pass a media token (?token=)'],
  forbidden: [403, 'forbidden', 'not allowed to watch this camera'],
  not_found: [404, 'not_found', 'no such camera'],
};

/** MIME type for `MediaSource.isTypeSupported` / `addSourceBuffer`. */
export function mseMime(codec: string | undefined): string {
  return codec ? `video/mp4; codecs="${codec}"` : 'video/mp4';
}

/**
 * The `stream` query parameter of a live WebSocket URL.
 * @returns `main` when absent, the stream when valid, undefined for any other value.
 */
export function parseLiveStream(value: string | null): LiveStream | undefined {
  if (value === null) return 'main';
  return (LIVE_STREAMS as readonly string[]).includes(value) ? (value as LiveStream) : undefined;
}

/** Answers a refused upgrade with a plain HTTP response (`{error: {code, message, field?}}`) and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, code: string, message: string, field?: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Serves the live WebSocket on `server`: handles `upgrade` events for
 * {@link LIVE_WS_PATH} only (other paths — `/mqtt`, `/rules/...` — are left to their
 * own listeners). `?stream=main|sub` picks the stream (default `main`; anything else is
 * refused with 400 before authorization). Cross-origin upgrades (an `Origin` whose host
 * is not the `Host`) are refused with 403 unless the URL carries a `?token=` (cookies are
 * ambient, tokens not).
 * @returns a handle to count and drop clients.
 */
export function attachLive(server: Server, opts: LiveOptions): LiveAttachment {
  const registry = opts.registry;
  const log = opts.logger;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return;
    }
    const m = LIVE_WS_PATH.exec(url.pathname);
    if (!m) return;
    socket.on('error', () => socket.destroy());
    let camera: string;
    try {
      camera = decodeURIComponent(m[1]!);
    } catch {
      refuseUpgrade(socket, 400, 'bad_request', 'malformed camera name');
      return;
    }
    const stream = parseLiveStream(url.searchParams.get('stream'));
    if (!stream) {
      refuseUpgrade(socket, 400, 'validation_failed', `stream must be one of ${LIVE_STREAMS.join(', ')}`, 'stream');
      return;
    }
    const origin = req.headers.origin;
    if (origin && !url.searchParams.has('token')) {
      let sameHost = false;
      try {
        sameHost = new URL(origin).host === req.headers.host;
      } catch {
        // malformed Origin: refused below
      }
      if (!sameHost) {
        log.debug({ camera, origin }, 'live: cross-origin upgrade refused');
        refuseUpgrade(socket, 403, 'forbidden', 'cross-origin live view needs a media token');
        return;
      }
    }
    opts.authorize(req, camera).then(
      (verdict) => {
        if (verdict !== 'ok') {
          const [status, code, message] = AUTH_STATUS[verdict] ?? [403, 'forbidden', 'refused'];
          log.debug({ camera, status }, 'live: upgrade refused');
          refuseUpgrade(socket, status, code, message);
          return;
        }
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => serveMse(ws, camera, stream));
      },
      (err: unknown) => {
        log.warn({ camera, err: (err as Error)?.message ?? String(err) }, 'live: authorize failed');
        refuseUpgrade(socket, 500, 'internal_error', 'internal error');
      },
    );
  };

  const serveMse = (ws: WebSocket, camera: string, asked: LiveStream): void => {
    const { feed, stream } = registry.forViewer(camera, asked);
    const unwatch = registry.watch(camera, stream); // a remote camera publishes only while watched
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', () => ws.terminate());
    let killTimer: NodeJS.Timeout | undefined;
    const sink: ViewerSink = {
      send(buf) {
        if (ws.readyState === ws.OPEN) ws.send(buf, { binary: true });
      },
      buffered: () => ws.bufferedAmount,
      close() {
        if (ws.readyState !== ws.OPEN) return;
        ws.close(1001, 'live feed closed');
        // A stalled client cannot complete the closing handshake (our close frame sits behind its backlog).
        killTimer = setTimeout(() => ws.terminate(), 2000);
        killTimer.unref();
      },
      sendInit(init, codec) {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ type: 'init', codec: codec ?? '', mime: mseMime(codec), stream }));
        ws.send(init, { binary: true });
      },
    };
    const remove = feed.addMseViewer(sink);
    log.debug({ camera, stream, viewers: feed.viewers }, 'live: MSE viewer connected');
    ws.on('close', () => {
      remove();
      unwatch();
      if (killTimer) clearTimeout(killTimer);
      log.debug({ camera, stream, viewers: feed.viewers }, 'live: MSE viewer left');
    });
  };

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.pingIntervalMs ?? 30_000);
  pinger.unref();

  server.on('upgrade', onUpgrade);
  return {
    clients: () => wss.clients.size,
    close() {
      clearInterval(pinger);
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/** Runs `authorize` for an express request. @throws ApiError 401/403/404 unless allowed. */
async function check(opts: LiveOptions, req: Request, camera: string): Promise<void> {
  const verdict = await opts.authorize(req, camera);
  if (verdict === 'ok') return;
  const [status, code, message] = AUTH_STATUS[verdict] ?? [403, 'forbidden', 'refused'];
  throw new ApiError(status, code, message);
}

/**
 * MJPEG and snapshot routes, to mount at `/api/cameras`:
 *
 * - `GET /:name/live.mjpeg` — `multipart/x-mixed-replace; boundary=vigil-mjpeg-frame`,
 *   one part per JPEG (`Content-Type: image/jpeg`, `Content-Length`, `X-Timestamp` in ms
 *   since epoch). A viewer that does not drain its socket only gets the newest frame once
 *   it has (per-viewer backpressure from `res.writableLength` and `drain`).
 * - `GET /:name/live.jpg` — the newest JPEG (`X-Timestamp`); when it is older than 2 s,
 *   waits up to 2 s for the next one (cameras may only encode JPEGs while wanted), and
 *   answers 503 `no_frame` when there is none.
 *
 * Both serve the camera's main stream only (the JPEGs are its detect frames): there is
 * no `stream` parameter here. Refusals and errors are {@link ApiError}s for the hub's
 * error middleware.
 */
export function liveRouter(opts: LiveOptions): express.Router {
  const registry = opts.registry;
  const router = express.Router();

  router.get('/:name/live.jpg', async (req: Request<{ name: string }>, res: Response) => {
    const camera = req.params.name;
    await check(opts, req, camera);
    const feed = registry.ensure(camera);
    let latest = feed.latestJpeg;
    if (!latest || Date.now() - latest.ts > FRESH_JPEG_MS) {
      // A remote camera sends JPEGs while watched: kept on for a while, for clients polling live.jpg.
      const unwatch = registry.watch(camera, 'jpeg', JPEG_LINGER_MS);
      try {
        latest = (await feed.nextJpeg(WAIT_JPEG_MS)) ?? latest;
      } finally {
        unwatch();
      }
    }
    if (!latest) {
      res.set('Retry-After', '1');
      throw new ApiError(503, 'no_frame', `no live frame from ${camera} yet`);
    }
    res.set({ 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store', 'X-Timestamp': String(latest.ts) });
    res.end(latest.jpeg);
  });

  router.get('/:name/live.mjpeg', async (req: Request<{ name: string }>, res: Response) => {
    const camera = req.params.name;
    await check(opts, req, camera);
    const feed = registry.ensure(camera);
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`,
      'Cache-Control': 'no-store, no-cache, must-revalidate',
      Pragma: 'no-cache',
      Connection: 'close',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    let open = true;
    const sink: ViewerSink = {
      send(jpeg) {
        if (!open) return;
        const ts = feed.latestJpeg?.jpeg === jpeg ? feed.latestJpeg.ts : Date.now();
        res.cork();
        res.write(`--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: ${ts}\r\n\r\n`);
        res.write(jpeg);
        res.write('\r\n');
        res.uncork();
      },
      buffered: () => res.writableLength,
      close() {
        open = false;
        res.destroy();
      },
      onDrain(listener) {
        res.on('drain', listener);
      },
    };
    const remove = feed.addJpegViewer(sink);
    const unwatch = registry.watch(camera, 'jpeg');
    opts.logger.debug({ camera, viewers: feed.viewers }, 'live: MJPEG viewer connected');
    const done = () => {
      unwatch();
      if (!open) return remove();
      open = false;
      remove();
      opts.logger.debug({ camera, viewers: feed.viewers }, 'live: MJPEG viewer left');
    };
    res.on('close', done);
    res.on('error', done);
  });

  return router;
}
