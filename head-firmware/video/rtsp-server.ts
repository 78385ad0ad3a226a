/**
 * The head's RTSP server: a small relay so the hub ingests the head's video as an
 * ordinary RTSP camera (`rtsp://<head>:<port>/main`). The head's own ffmpeg
 * ({@link ./camera-source.ts}) publishes into it with ANNOUNCE/SETUP/RECORD
 * (`-f rtsp -rtsp_transport tcp`), and any number of players (the hub's camera component,
 * the head's recorder, ffprobe, VLC) pull it with DESCRIBE/SETUP/PLAY. RTP and RTCP
 * packets are relayed as they are (no depacketizing, no re-encoding).
 *
 * Why our own code: no npm package does this job here. `rtsp-streaming-server` 2.1.0
 * (GPL-3.0) answers a TCP publisher's SETUP with 501 and a TCP player's with 461 (RTP
 * over UDP only; the hub pulls with `-rtsp_transport tcp`); its parser `rtsp-server` /
 * `rtsp-stream` cannot read RTP interleaved in the RTSP connection (RFC 2326 §10.12);
 * `node-rtsp-rtmp-server` 0.4.0 works over TCP but always binds 0.0.0.0, fixed UDP ports
 * 5004–5007 and Unix sockets in /tmp, and keeps its settings in a module-global object
 * (one server per process).
 *
 * Scope (RFC 2326):
 * - RTP/AVP/TCP interleaved only (§10.12); a SETUP asking for UDP gets 461, on which
 *   ffmpeg and VLC retry over TCP.
 * - Publishing only from loopback by default (`allowPublish`): the head's own ffmpeg.
 *   One publisher per path; a second ANNOUNCE on a live path gets 455.
 * - A player joining an H.264 track gets its packets from the next IDR/SPS packet on (the
 *   parameter sets are in the SDP's `sprop-parameter-sets`), so a recording or a probe
 *   starts on a keyframe. A player whose socket has more than `maxPlayerBufferBytes`
 *   unsent skips packets until the next keyframe (the relay never buffers without bound).
 * - When the publisher leaves, its path's players are disconnected (their RTSP clients
 *   reconnect and DESCRIBE the new stream, whose SDP may differ).
 * - No authentication of players (yet): bind it to 127.0.0.1 or a trusted network.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';

/** Options of {@link HeadRtspServer}. */
export interface HeadRtspServerOptions {
  /** Address to bind (default `127.0.0.1`; `0.0.0.0` or `::` to serve the network). */
  host?: string;
  /** TCP port (default 0: any free port, read it from {@link HeadRtspServer.port} after `start`). */
  port?: number;
  /**
   * Who may publish (ANNOUNCE/RECORD), given the peer's address. Default: loopback only
   * (`127.0.0.0/8`, `::1`, `::ffff:127.x`), i.e. the head's own ffmpeg.
   */
  allowPublish?: (remoteAddress: string) => boolean;
  /** Unsent bytes on a player's socket beyond which its packets are skipped up to the next keyframe (default 2 MiB). */
  maxPlayerBufferBytes?: number;
  /** Simultaneous TCP connections (default 32); more are closed at once. */
  maxConnections?: number;
  /** A connection that sends nothing for this long is closed, ms (default 90 000; publishers are exempt while they publish). */
  idleTimeoutMs?: number;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/** Counters of one published path. */
export interface RtspPathStats {
  path: string;
  /** `a=rtpmap` encoding names of the tracks, e.g. `['H264']`. */
  codecs: string[];
  players: number;
  /** RTP/RTCP packets received from the publisher. */
  packets_in: number;
  /** Packets written to players (sum over players). */
  packets_out: number;
  /** Packets not sent to a player because it was slow or waiting for a keyframe. */
  packets_skipped: number;
  /** Unix ms when RECORD started. */
  since: number;
}

/** Largest RTSP head (request line + headers), bytes. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Largest RTSP body (an SDP), bytes. */
const MAX_BODY_BYTES = 64 * 1024;
/** Session timeout announced to clients, s: ffmpeg sends a keep-alive every half of it (RFC 2326 §12.37). */
const SESSION_TIMEOUT_S = 60;
const SERVER_NAME = 'vigil-head';
const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
/** Path segments: a published path is one or more of these joined by `/`. */
const PATH_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** One media section of an announced SDP. */
interface Track {
  /** `a=control` value (often `streamid=0`), or `''`. */
  control: string;
  /** `a=rtpmap` encoding name, upper case (`H264`), or `''`. */
  codec: string;
}

/** A published path. */
interface Mount {
  path: string;
  sdp: string;
  tracks: Track[];
  publisher: Conn;
  /** Publisher's interleaved channel → track index and whether it carries RTCP. */
  channels: Map<number, { track: number; rtcp: boolean }>;
  players: Set<Conn>;
  live: boolean;
  stats: RtspPathStats;
}

/** A player's view of one track. */
interface PlayerTrack {
  rtp: number;
  rtcp: number;
  /** Skipping packets until an H.264 keyframe starts. */
  waiting: boolean;
}

/** One TCP connection (publisher, player, or not yet known). */
interface Conn {
  id: number;
  socket: Socket;
  remote: string;
  buf: Buffer;
  session?: string;
  role: 'unknown' | 'publisher' | 'player';
  /** Publisher: the mount it announced. Player: the mount it plays. */
  mount?: Mount;
  /** Player: track index → channels. */
  tracks: Map<number, PlayerTrack>;
  playing: boolean;
}

interface RtspRequest {
  method: string;
  uri: string;
  headers: Map<string, string>;
  body: string;
}

/** True for loopback peers: `127.0.0.0/8`, `::1`, `::ffff:127.x.x.x`. */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/**
 * Splits an SDP (RFC 4566) into its media sections and reads each one's `a=control` and
 * `a=rtpmap` encoding name. Lines are `<type>=<value>`; a section starts at each `m=`.
 */
export function parseSdpTracks(sdp: string): Track[] {
  const tracks: Track[] = [];
  let cur: Track | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      cur = { control: '', codec: '' };
      tracks.push(cur);
    } else if (cur && line.startsWith('a=control:')) {
      cur.control = line.slice('a=control:'.length).trim();
    } else if (cur && line.startsWith('a=rtpmap:')) {
      // a=rtpmap:96 H264/90000
      const m = /^a=rtpmap:\d+\s+([^/\s]+)/.exec(line);
      if (m) cur.codec = m[1]!.toUpperCase();
    }
  }
  return tracks;
}

/**
 * True when an RTP packet's H.264 payload starts a keyframe: a single NAL unit or an
 * FU-A start fragment of type 5 (IDR slice) or 7 (SPS), or a STAP-A holding one
 * (RFC 6184 §5.6–5.8). Malformed packets → false.
 */
export function isH264KeyframeStart(rtp: Buffer): boolean {
  if (rtp.length < 13 || rtp[0]! >> 6 !== 2) return false;
  const cc = rtp[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (rtp[0]! & 0x10) {
    // Header extension: 16-bit profile, 16-bit length in 32-bit words (RFC 3550 §5.3.1).
    if (rtp.length < off + 4) return false;
    off += 4 + rtp.readUInt16BE(off + 2) * 4;
  }
  let end = rtp.length;
  if (rtp[0]! & 0x20) end -= rtp[rtp.length - 1]!; // padding
  if (off >= end) return false;
  const key = (t: number): boolean => t === 5 || t === 7;
  const type = rtp[off]! & 0x1f;
  if (type >= 1 && type <= 23) return key(type);
  if (type === 28) return off + 1 < end && (rtp[off + 1]! & 0x80) !== 0 && key(rtp[off + 1]! & 0x1f);
  if (type === 24) {
    for (let p = off + 1; p + 2 < end;) {
      const size = rtp.readUInt16BE(p);
      if (size === 0 || p + 2 + size > end) return false;
      if (key(rtp[p + 2]! & 0x1f)) return true;
      p += 2 + size;
    }
  }
  return false;
}

/**
 * The RTSP relay. Events: `publish` (path: string) when a publisher starts RECORD,
 * `unpublish` (path: string) when it leaves, `error` (Error) for listener errors after
 * start.
 *
 * ```ts
 * const rtsp = new HeadRtspServer({ port: 8554 });
 * await rtsp.start();
 * rtsp.url('main'); // rtsp://127.0.0.1:8554/main
 * await rtsp.stop();
 * ```
 */
export class HeadRtspServer extends EventEmitter {
  private server?: Server;
  private readonly conns = new Set<Conn>();
  private readonly mounts = new Map<string, Mount>();
  private nextConnId = 1;
  private boundPort = 0;
  private readonly opts: Required<Omit<HeadRtspServerOptions, 'logger'>> & { logger?: HeadRtspServerOptions['logger'] };

  /** @throws Error when `port` is not an integer in 0–65535 or a limit is not positive. */
  constructor(opts: HeadRtspServerOptions = {}) {
    super();
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`RTSP port must be an integer 0–65535, got ${String(opts.port)}`);
    for (const k of ['maxPlayerBufferBytes', 'maxConnections', 'idleTimeoutMs'] as const) {
      const v = opts[k];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new Error(`RTSP server option ${k} must be a positive number, got ${String(v)}`);
    }
    this.opts = {
      host: opts.host ?? '127.0.0.1',
      port,
      allowPublish: opts.allowPublish ?? isLoopback,
      maxPlayerBufferBytes: opts.maxPlayerBufferBytes ?? 2 * 1024 * 1024,
      maxConnections: opts.maxConnections ?? 32,
      idleTimeoutMs: opts.idleTimeoutMs ?? 90_000,
      logger: opts.logger,
    };
  }

  /** The bound port (0 before `start`). */
  get port(): number {
    return this.boundPort;
  }

  /** The bound host. */
  get host(): string {
    return this.opts.host;
  }

  /**
   * URL of a path on this server, e.g. `rtsp://127.0.0.1:8554/main`. A wildcard bind
   * (`0.0.0.0`, `::`) is reported as loopback (for the head's own publisher and
   * recorder); pass `advertisedHost` for the address others use.
   * @throws Error before `start` or for a path that is not `[A-Za-z0-9_.-]` segments.
   */
  url(path = 'main', advertisedHost?: string): string {
    if (!this.boundPort) throw new Error('RTSP server not started');
    if (!PATH_RE.test(path)) throw new Error(`RTSP path refused: ${JSON.stringify(path)}`);
    let host = advertisedHost ?? this.opts.host;
    if (!advertisedHost && (host === '0.0.0.0' || host === '::')) host = host === '::' ? '::1' : '127.0.0.1';
    if (host.includes(':')) host = `[${host}]`;
    return `rtsp://${host}:${this.boundPort}/${path}`;
  }

  /** True while a publisher is recording into `path`. */
  isPublishing(path = 'main'): boolean {
    return this.mounts.get(path)?.live ?? false;
  }

  /** Counters of every live path. */
  stats(): RtspPathStats[] {
    return [...this.mounts.values()].filter((m) => m.live).map((m) => ({ ...m.stats, players: m.players.size }));
  }

  /**
   * Binds the listener.
   * @throws Error when already started or the address cannot be bound (`EADDRINUSE`, `EADDRNOTAVAIL`).
   */
  async start(): Promise<void> {
    if (this.server) throw new Error('RTSP server already started');
    const server = createServer((socket) => this.onConnection(socket));
    server.maxConnections = this.opts.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.emit('error', err));
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.opts.logger?.info({ host: this.opts.host, port: this.boundPort }, 'RTSP server listening');
  }

  /** Closes the listener and every connection (publishers and players). Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.boundPort = 0;
  }

  private onConnection(socket: Socket): void {
    const conn: Conn = { id: this.nextConnId++, socket, remote: socket.remoteAddress ?? '', buf: Buffer.alloc(0), role: 'unknown', tracks: new Map(), playing: false };
    this.conns.add(conn);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(this.opts.idleTimeoutMs, () => {
      if (conn.role === 'publisher' && conn.mount?.live) return;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.onClose(conn));
  }

  private onClose(conn: Conn): void {
    this.conns.delete(conn);
    const m = conn.mount;
    if (!m) return;
    if (conn.role === 'publisher' && this.mounts.get(m.path) === m) {
      this.mounts.delete(m.path);
      for (const p of m.players) p.socket.end();
      m.players.clear();
      if (m.live) {
        this.opts.logger?.info({ path: m.path }, 'RTSP publisher left');
        this.emit('unpublish', m.path);
      }
    } else if (conn.role === 'player') {
      m.players.delete(conn);
    }
  }

  private onData(conn: Conn, chunk: Buffer): void {
    conn.buf = conn.buf.length ? Buffer.concat([conn.buf, chunk]) : chunk;
    while (conn.buf.length && !conn.socket.destroyed) {
      if (conn.buf[0] === 0x24) {
        // Interleaved binary data: '$', channel, 16-bit length, packet (RFC 2326 §10.12).
        if (conn.buf.length < 4) return;
        const len = conn.buf.readUInt16BE(2);
        if (conn.buf.length < 4 + len) return;
        const frame = conn.buf.subarray(0, 4 + len);
        conn.buf = conn.buf.subarray(4 + len);
        if (conn.role === 'publisher') this.relay(conn, frame);
        continue; // players' RTCP receiver reports are read and dropped
      }
      const req = this.parseRequest(conn);
      if (!req) return;
      this.handle(conn, req);
    }
  }

  /** Takes one complete RTSP message off the buffer; `undefined` when more bytes are needed (or the connection was closed for a bad one). */
  private parseRequest(conn: Conn): RtspRequest | undefined {
    const buf = conn.buf;
    const limit = Math.min(buf.length, MAX_HEAD_BYTES);
    let headEnd = -1;
    let sepLen = 4;
    const crlf = buf.indexOf('\r\n\r\n');
    if (crlf >= 0 && crlf < limit) headEnd = crlf;
    else {
      const lf = buf.indexOf('\n\n');
      if (lf >= 0 && lf < limit) { headEnd = lf; sepLen = 2; }
    }
    if (headEnd < 0) {
      if (buf.length >= MAX_HEAD_BYTES) this.reject(conn, 400, 'Bad Request');
      return undefined;
    }
    const lines = buf.subarray(0, headEnd).toString('utf8').split(/\r?\n/);
    const [method, uri, version] = (lines[0] ?? '').split(' ');
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? 0);
    if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
      this.reject(conn, 413, 'Request Entity Too Large');
      return undefined;
    }
    const total = headEnd + sepLen + length;
    if (buf.length < total) return undefined;
    conn.buf = buf.subarray(total);
    if (!method || !uri || !version?.startsWith('RTSP/')) {
      // A response (RTSP/1.0 200 …) from a client, or garbage: ignore responses, refuse the rest.
      if (method?.startsWith('RTSP/')) return undefined;
      this.reject(conn, 400, 'Bad Request');
      return undefined;
    }
    return { method: method.toUpperCase(), uri, headers, body: buf.subarray(headEnd + sepLen, total).toString('utf8') };
  }

  private reject(conn: Conn, status: number, reason: string): void {
    if (!conn.socket.destroyed) conn.socket.end(`RTSP/1.0 ${status} ${reason}\r\nServer: ${SERVER_NAME}\r\n\r\n`);
    conn.buf = Buffer.alloc(0);
    conn.socket.destroy();
  }

  private reply(conn: Conn, req: RtspRequest, status: number, reason: string, headers: Record<string, string> = {}, body = ''): void {
    if (conn.socket.destroyed) return;
    let head = `RTSP/1.0 ${status} ${reason}\r\nCSeq: ${req.headers.get('cseq') ?? '0'}\r\nServer: ${SERVER_NAME}\r\n`;
    if (conn.session) head += `Session: ${conn.session};timeout=${SESSION_TIMEOUT_S}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (body) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    conn.socket.write(`${head}\r\n${body}`);
  }

  /** The path of a request URI (`rtsp://h:p/main/streamid=0` → `main/streamid=0`), or undefined. */
  private pathOf(uri: string): string | undefined {
    try {
      const p = decodeURIComponent(new URL(uri).pathname).replace(/^\/+|\/+$/g, '');
      return p;
    } catch {
      return undefined;
    }
  }

  private handle(conn: Conn, req: RtspRequest): void {
    const path = this.pathOf(req.uri);
    if (path === undefined) return this.reply(conn, req, 400, 'Bad Request');
    try {
      switch (req.method) {
        case 'OPTIONS':
          return this.reply(conn, req, 200, 'OK', { Public: PUBLIC_METHODS });
        case 'GET_PARAMETER':
        case 'SET_PARAMETER':
          return this.reply(conn, req, 200, 'OK');
        case 'ANNOUNCE':
          return this.announce(conn, req, path);
        case 'DESCRIBE':
          return this.describe(conn, req, path);
        case 'SETUP':
          return this.setup(conn, req, path);
        case 'RECORD':
          return this.record(conn, req);
        case 'PLAY':
          return this.play(conn, req);
        case 'PAUSE':
          if (conn.role === 'player') conn.playing = false;
          return this.reply(conn, req, 200, 'OK');
        case 'TEARDOWN':
          this.reply(conn, req, 200, 'OK');
          conn.socket.end();
          return;
        default:
          return this.reply(conn, req, 501, 'Not Implemented');
      }
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message, method: req.method }, 'RTSP request failed');
      this.reply(conn, req, 500, 'Internal Server Error');
    }
  }

  private announce(conn: Conn, req: RtspRequest, path: string): void {
    if (!this.opts.allowPublish(conn.remote)) return this.reply(conn, req, 403, 'Forbidden');
    if (!PATH_RE.test(path)) return this.reply(conn, req, 400, 'Bad Request');
    if (conn.role !== 'unknown') return this.reply(conn, req, 455, 'Method Not Valid in This State');
    if (this.mounts.has(path)) return this.reply(conn, req, 455, 'Method Not Valid in This State');
    if (!/application\/sdp/i.test(req.headers.get('content-type') ?? '')) return this.reply(conn, req, 415, 'Unsupported Media Type');
    const tracks = parseSdpTracks(req.body);
    if (!tracks.length) return this.reply(conn, req, 400, 'Bad Request');
    const mount: Mount = {
      path, sdp: req.body, tracks, publisher: conn, channels: new Map(), players: new Set(), live: false,
      stats: { path, codecs: tracks.map((t) => t.codec), players: 0, packets_in: 0, packets_out: 0, packets_skipped: 0, since: 0 },
    };
    this.mounts.set(path, mount);
    conn.role = 'publisher';
    conn.mount = mount;
    this.reply(conn, req, 200, 'OK');
  }

  private describe(conn: Conn, req: RtspRequest, path: string): void {
    const m = this.mounts.get(path);
    if (!m?.live) return this.reply(conn, req, 404, 'Not Found');
    const base = req.uri.endsWith('/') ? req.uri : `${req.uri}/`;
    this.reply(conn, req, 200, 'OK', { 'Content-Base': base, 'Content-Type': 'application/sdp' }, m.sdp);
  }

  /** The mount and track a SETUP URI names: `<path>/<control>`, `<path>` for a single track, or an absolute control URL. */
  private trackOf(mount: Mount, path: string, uri: string): number {
    const rest = path === mount.path ? '' : path.slice(mount.path.length + 1);
    return mount.tracks.findIndex((t, i) =>
      (rest === '' && mount.tracks.length === 1 && i === 0) || (rest !== '' && t.control === rest) || t.control === uri);
  }

  private findMount(path: string, conn: Conn): Mount | undefined {
    if (conn.role === 'publisher') return conn.mount;
    if (conn.mount) return conn.mount;
    // Longest published path that is `path` or a prefix of it.
    let best: Mount | undefined;
    for (const m of this.mounts.values()) {
      if (m.live && (path === m.path || path.startsWith(`${m.path}/`)) && (!best || m.path.length > best.path.length)) best = m;
    }
    return best;
  }

  private setup(conn: Conn, req: RtspRequest, path: string): void {
    const transport = req.headers.get('transport') ?? '';
    const session = req.headers.get('session')?.split(';')[0]?.trim();
    if (conn.session && session && session !== conn.session) return this.reply(conn, req, 454, 'Session Not Found');
    const mount = this.findMount(path, conn);
    if (!mount) return this.reply(conn, req, 404, 'Not Found');
    const track = this.trackOf(mount, path, req.uri);
    if (track < 0) return this.reply(conn, req, 404, 'Not Found');
    // Only RTP over the RTSP connection: RTP/AVP/TCP;…;interleaved=a-b.
    if (!/RTP\/AVP\/TCP/i.test(transport)) return this.reply(conn, req, 461, 'Unsupported Transport');
    const il = /interleaved=(\d+)(?:-(\d+))?/i.exec(transport);
    let rtp: number;
    let rtcp: number;
    if (il) {
      rtp = Number(il[1]);
      rtcp = il[2] !== undefined ? Number(il[2]) : rtp + 1;
    } else {
      rtp = track * 2;
      rtcp = rtp + 1;
    }
    if (rtp > 255 || rtcp > 255) return this.reply(conn, req, 400, 'Bad Request');
    if (conn.role === 'publisher') {
      if (mount.live) return this.reply(conn, req, 455, 'Method Not Valid in This State');
      mount.channels.set(rtp, { track, rtcp: false });
      mount.channels.set(rtcp, { track, rtcp: true });
    } else {
      if (conn.role === 'unknown') { conn.role = 'player'; conn.mount = mount; }
      conn.tracks.set(track, { rtp, rtcp, waiting: mount.tracks[track]!.codec === 'H264' });
    }
    conn.session ??= randomBytes(8).toString('hex');
    const mode = conn.role === 'publisher' ? ';mode=record' : '';
    this.reply(conn, req, 200, 'OK', { Transport: `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp}${mode}` });
  }

  private record(conn: Conn, req: RtspRequest): void {
    const m = conn.mount;
    if (conn.role !== 'publisher' || !m || !m.channels.size) return this.reply(conn, req, 455, 'Method Not Valid in This State');
    this.reply(conn, req, 200, 'OK');
    if (!m.live) {
      m.live = true;
      m.stats.since = Date.now();
      this.opts.logger?.info({ path: m.path, codecs: m.stats.codecs }, 'RTSP publisher recording');
      this.emit('publish', m.path);
    }
  }

  private play(conn: Conn, req: RtspRequest): void {
    const m = conn.mount;
    if (conn.role !== 'player' || !m || !conn.tracks.size) return this.reply(conn, req, 455, 'Method Not Valid in This State');
    if (this.mounts.get(m.path) !== m) return this.reply(conn, req, 404, 'Not Found');
    this.reply(conn, req, 200, 'OK', { Range: 'npt=0.000-' });
    conn.playing = true;
    m.players.add(conn);
  }

  /** Sends one interleaved frame of the publisher to every player of its track. */
  private relay(pub: Conn, frame: Buffer): void {
    const m = pub.mount;
    if (!m?.live) return;
    m.stats.packets_in++;
    const ch = m.channels.get(frame[1]!);
    if (!ch) return;
    const h264 = m.tracks[ch.track]!.codec === 'H264';
    let keyframe: boolean | undefined;
    for (const p of m.players) {
      if (!p.playing) continue;
      const t = p.tracks.get(ch.track);
      if (!t) continue;
      if (!ch.rtcp) {
        if (p.socket.writableLength > this.opts.maxPlayerBufferBytes) {
          // Slow player: drop up to the next keyframe rather than buffer without bound.
          if (h264) t.waiting = true;
          m.stats.packets_skipped++;
          continue;
        }
        if (t.waiting) {
          keyframe ??= isH264KeyframeStart(frame.subarray(4));
          if (!keyframe) { m.stats.packets_skipped++; continue; }
          t.waiting = false;
        }
      } else if (t.waiting) continue;
      const out = ch.rtcp ? t.rtcp : t.rtp;
      let data = frame;
      if (out !== frame[1]) {
        data = Buffer.from(frame);
        data[1] = out;
      }
      p.socket.write(data);
      m.stats.packets_out++;
    }
  }
}
