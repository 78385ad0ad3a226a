/**
 * The camera head's WebSocket state API (the C Pro seed's `websocketApiV1Handler.nim`,
 * "WebSocket Push: sub-100ms state update latency"), on the same HTTP server as the HTTP
 * API, at `/api/ws` (package `ws`).
 *
 * The upgrade is authenticated like any request (`auth.ts`: Basic, Digest, Bearer, or the
 * session cookie browsers send); refused upgrades get a plain HTTP answer (401 with the
 * challenges, 403 for a cross-origin upgrade, 429 while throttled). An upgrade whose
 * `Origin` names another host than `Host` is refused before any credential is checked
 * (a page elsewhere must not ride on the browser's cookie or cached Basic credentials).
 *
 * Messages are JSON text. Client → head (`id`: a string of up to 100 characters or a
 * number, echoed in the reply; may be omitted, then the reply's `id` is null):
 * - `{id, op: 'subscribe', keys?: string[]}` — without `keys`: every key the client may
 *   read, now and declared later; with `keys`: those (all known and readable, else nothing
 *   is subscribed). Reply `{id, ok: true, op, keys, values: {key: value}}` with the current
 *   values, sent before any change pushed for them.
 * - `{id, op: 'unsubscribe', keys?: string[]}` — without `keys`: everything. Reply `{id, ok: true, op, keys}`.
 * - `{id, op: 'get', key}` → `{id, ok: true, op, key, value}`.
 * - `{id, op: 'set', key, value}` → `{id, ok: true, op, key, value, changed}` once the store
 *   has applied it (the `change` push may come before this reply).
 * Head → client:
 * - a failure: `{id, ok: false, error: {code, message, field?}}` (codes: `bad_request`,
 *   `unknown_key`, `forbidden`, `read_only`, `invalid`, `rejected`, `busy` when more than 64
 *   of the client's requests are pending). A bad message never closes the socket.
 * - `{op: 'change', key, value, at}` (`at`: Unix ms) for every change of a subscribed key
 *   the client may read.
 *
 * Memory: a client whose unsent data (`bufferedAmount`) exceeds
 * {@link WsApiOptions.maxBufferedBytes} is dropped (close code 1013 "try again later", then
 * terminated) rather than queuing without bound; a peer that stops answering pings is
 * terminated. A user's sockets are closed (4001) when the user is removed, their role
 * changes or their password changes, so no socket outlives its credentials.
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { StateStore } from '../state/store.ts';
import type { StateChange } from '../state/types.ts';
import { sameOrigin, type HeadAuth, type UserPrincipal } from './auth.ts';

/** The WebSocket path. */
export const WS_PATH = '/api/ws';

export interface WsApiOptions {
  store: StateStore;
  /** The same authenticator as the HTTP API's (sessions are shared). */
  auth: HeadAuth;
  logger?: Logger;
  /** Default {@link WS_PATH}. */
  path?: string;
  /** Drop a client with more unsent bytes than this. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Largest message a client may send, bytes. Default 64 KiB. */
  maxPayloadBytes?: number;
  /** Ping interval; a client that has not answered the previous ping is terminated, ms. Default 30 000. */
  pingIntervalMs?: number;
}

/** What {@link attachWsApi} returns. */
export interface WsApi {
  /** Connected clients. */
  clients(): number;
  /** Clients dropped for being slow, since start. */
  dropped(): number;
  /** Stops accepting upgrades and terminates every client. */
  close(): void;
}

interface Client {
  ws: WebSocket;
  principal: UserPrincipal;
  /** `all` = every readable key, else the keys subscribed. */
  subs: 'all' | Set<string>;
  alive: boolean;
  /** Messages being handled (sets awaiting the store). */
  inflight: number;
}

type Reply = Record<string, unknown>;

class BadMessage extends Error {
  constructor(readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

const OPS = new Set(['subscribe', 'unsubscribe', 'get', 'set']);
/** Most messages of one client handled at once; more get a `busy` error (a client cannot queue writes without bound). */
const MAX_INFLIGHT = 64;

/** Answers a refused upgrade with a plain HTTP response (JSON error body) and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, code: string, message: string, headers: Record<string, string | string[]> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  const extra = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}\r\n`)).join('');
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}


/**
 * Serves the state WebSocket on `server` (handles `upgrade` events for `opts.path` only;
 * other paths are left to other listeners).
 * @returns a handle to count and drop clients.
 */
export function attachWsApi(server: Server, opts: WsApiOptions): WsApi {
  const { store, auth } = opts;
  const log = opts.logger;
  const path = opts.path ?? WS_PATH;
  const maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 65_536, perMessageDeflate: false });
  const clients = new Set<Client>();
  let droppedCount = 0;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return;
    }
    if (pathname !== path) return;
    socket.on('error', () => socket.destroy());
    if (!sameOrigin(req)) {
      log?.debug({ origin: req.headers.origin }, 'head ws: cross-origin upgrade refused');
      refuseUpgrade(socket, 403, 'forbidden', 'cross-origin WebSocket refused');
      return;
    }
    auth.check(req).then(
      (r) => {
        if (!r.principal) {
          if (r.retryAfterS) refuseUpgrade(socket, 429, 'throttled', 'too many failed attempts', { 'Retry-After': String(r.retryAfterS) });
          else refuseUpgrade(socket, 401, 'unauthenticated', r.stale ? 'stale nonce' : 'authentication required', { 'WWW-Authenticate': auth.challenges(r.stale) });
          return;
        }
        if (socket.destroyed) return;
        const principal = r.principal;
        wss.handleUpgrade(req, socket, head, (ws) => serve(ws, principal));
      },
      (err: unknown) => {
        log?.warn({ err: (err as Error)?.message ?? String(err) }, 'head ws: authentication failed');
        refuseUpgrade(socket, 500, 'internal_error', 'internal error');
      },
    );
  };

  /** Sends `data` unless the client is gone; drops it when its backlog is over the limit. @returns false when dropped or closed. */
  const send = (c: Client, data: string | Buffer): boolean => {
    if (c.ws.readyState !== c.ws.OPEN) return false;
    if (c.ws.bufferedAmount > maxBuffered) {
      drop(c);
      return false;
    }
    c.ws.send(data, { binary: false });
    return true;
  };

  const drop = (c: Client): void => {
    droppedCount++;
    clients.delete(c);
    log?.warn({ user: c.principal.name, buffered: c.ws.bufferedAmount }, 'head ws: slow client dropped');
    // The close frame sits behind the backlog: terminate at once.
    c.ws.close(1013, 'too slow');
    c.ws.terminate();
  };

  const reply = (c: Client, id: unknown, r: Reply) => send(c, JSON.stringify({ id, ...r }));
  const error = (c: Client, id: unknown, code: string, message: string, field?: string) =>
    reply(c, id, { ok: false, error: { code, message, ...(field ? { field } : {}) } });

  const keyList = (v: unknown, field: string): string[] => {
    if (!Array.isArray(v) || v.length > 10_000 || v.some((k) => typeof k !== 'string')) throw new BadMessage('bad_request', `${field} must be a list of key names`, field);
    return v as string[];
  };

  const keyOf = (v: unknown): string => {
    if (typeof v !== 'string') throw new BadMessage('bad_request', 'key must be a string', 'key');
    if (!store.spec(v)) throw new BadMessage('unknown_key', `no state key "${v}"`, 'key');
    return v;
  };

  const handle = async (c: Client, raw: RawData, isBinary: boolean): Promise<void> => {
    let id: unknown = null;
    c.inflight++;
    try {
      if (isBinary) throw new BadMessage('bad_request', 'messages are JSON text');
      let msg: unknown;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        throw new BadMessage('bad_request', 'message is not JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new BadMessage('bad_request', 'message must be a JSON object');
      const m = msg as Record<string, unknown>;
      if (m.id !== undefined && m.id !== null) {
        if ((typeof m.id === 'string' && m.id.length <= 100) || (typeof m.id === 'number' && Number.isFinite(m.id))) id = m.id;
        else throw new BadMessage('bad_request', 'id must be a string (≤ 100 characters) or a number', 'id');
      }
      if (c.inflight > MAX_INFLIGHT) throw new BadMessage('busy', `more than ${MAX_INFLIGHT} requests pending: wait for replies`);
      if (typeof m.op !== 'string' || !OPS.has(m.op)) throw new BadMessage('bad_request', `op must be one of ${[...OPS].join(', ')}`, 'op');
      const p = c.principal;
      switch (m.op) {
        case 'subscribe': {
          if (m.keys === undefined) {
            c.subs = 'all';
            const values = store.readable(p);
            reply(c, id, { ok: true, op: 'subscribe', keys: Object.keys(values), values });
            return;
          }
          const keys = keyList(m.keys, 'keys');
          keys.forEach((k, i) => {
            if (!store.spec(k)) throw new BadMessage('unknown_key', `no state key "${k}"`, `keys.${i}`);
            if (!store.canRead(p, k)) throw new BadMessage('forbidden', `may not read "${k}"`, `keys.${i}`);
          });
          if (c.subs !== 'all') for (const k of keys) c.subs.add(k);
          const values = Object.fromEntries(keys.map((k) => [k, store.get(k)]));
          reply(c, id, { ok: true, op: 'subscribe', keys, values });
          return;
        }
        case 'unsubscribe': {
          if (m.keys === undefined) {
            c.subs = new Set();
            reply(c, id, { ok: true, op: 'unsubscribe', keys: [] });
            return;
          }
          const keys = keyList(m.keys, 'keys');
          // Unsubscribing keys from "all" turns it into the explicit list of the others.
          if (c.subs === 'all') c.subs = new Set(Object.keys(store.readable(p)));
          for (const k of keys) c.subs.delete(k);
          reply(c, id, { ok: true, op: 'unsubscribe', keys });
          return;
        }
        case 'get': {
          const key = keyOf(m.key);
          if (!store.canRead(p, key)) throw new BadMessage('forbidden', `may not read "${key}"`, 'key');
          reply(c, id, { ok: true, op: 'get', key, value: store.get(key) });
          return;
        }
        case 'set': {
          if (typeof m.key !== 'string') throw new BadMessage('bad_request', 'key must be a string', 'key');
          if (!('value' in m)) throw new BadMessage('bad_request', 'value is missing', 'value');
          const r = await store.set(m.key, m.value, p);
          if (r.ok) reply(c, id, { ok: true, op: 'set', key: r.key, value: r.value, changed: r.changed });
          else error(c, id, r.code, r.reason, r.code === 'invalid' ? ['value', ...(r.path ?? [])].join('.') : 'key');
          return;
        }
      }
    } catch (err) {
      if (err instanceof BadMessage) error(c, id, err.code, err.message, err.field);
      else {
        log?.error({ err: (err as Error)?.stack ?? String(err) }, 'head ws: message failed');
        error(c, id, 'internal_error', 'internal error');
      }
    } finally {
      c.inflight--;
    }
  };

  const serve = (ws: WebSocket, principal: UserPrincipal): void => {
    const c: Client = { ws, principal, subs: new Set(), alive: true, inflight: 0 };
    clients.add(c);
    log?.debug({ user: principal.name, clients: clients.size }, 'head ws: client connected');
    ws.on('pong', () => { c.alive = true; });
    ws.on('error', () => ws.terminate());
    ws.on('message', (raw, isBinary) => { void handle(c, raw, isBinary); });
    ws.on('close', () => {
      clients.delete(c);
      log?.debug({ user: principal.name, clients: clients.size }, 'head ws: client left');
    });
  };

  // One serialization per change, the same bytes to every client that may see it.
  const unlisten = store.onChange((ch: StateChange) => {
    if (clients.size === 0) return;
    let frame: Buffer | undefined;
    for (const c of clients) {
      if (c.subs !== 'all' && !c.subs.has(ch.key)) continue;
      if (!store.canRead(c.principal, ch.key)) continue;
      frame ??= Buffer.from(JSON.stringify({ op: 'change', key: ch.key, value: ch.value, at: ch.at }));
      send(c, frame);
    }
  });

  const unwatchUsers = auth.users.onChange((u) => {
    if (u.what === 'added') return;
    for (const c of clients) {
      if (c.principal.name !== u.name) continue;
      clients.delete(c);
      c.ws.close(4001, `user ${u.what === 'removed' ? 'removed' : `${u.what} changed`}`);
    }
  });

  const pinger = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        clients.delete(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, opts.pingIntervalMs ?? 30_000);
  pinger.unref();

  server.on('upgrade', onUpgrade);
  return {
    clients: () => clients.size,
    dropped: () => droppedCount,
    close() {
      clearInterval(pinger);
      server.off('upgrade', onUpgrade);
      unlisten();
      unwatchUsers();
      for (const c of clients) c.ws.terminate();
      clients.clear();
      wss.close();
    },
  };
}
