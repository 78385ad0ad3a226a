/**
 * The rules engine: Node-RED 4.1 embedded in the hub, served on the hub's own HTTP server.
 *
 * Routing. Node-RED's sub-apps (`RED.httpAdmin`, `RED.httpNode`) are Express 4 apps and
 * its `http in` nodes break when mounted into the hub's Express 5 app, so this module
 * builds a separate Express 4 app (the `express` node-red itself depends on, resolved
 * from node-red's location) and the hub dispatches on the path, before Express 5:
 * `engine.handles(req.url) ? engine.handler(req, res) : app(req, res)`.
 *
 * - `adminRoot` (default `/rules`): the editor and its admin API. Every request and every
 *   WebSocket upgrade (the editor's `<adminRoot>/comms`) is checked with
 *   {@link RulesEngineOptions.authorize} first: 401 / 403 JSON `{error:{code,message}}`
 *   otherwise. Node-RED's own `adminAuth` is not used (the editor shows no login; the
 *   hub's session cookie is what authenticates it). Unsafe methods and upgrades carrying
 *   an `Origin` of another host are refused too ({@link RulesEngineOptions.checkOrigin}):
 *   the editor cannot send the hub's `X-CSRF-Token`, so that is its CSRF defence, along
 *   with SameSite cookies.
 * - `nodeRoot` (default `/rules/api`): endpoints of `http in` and `websocket in` nodes.
 *   NOT behind the admin check: they are user-facing webhooks, open to anyone who can
 *   reach the HTTP port; a flow that needs protection must check the request itself.
 *   Requests under `nodeRoot` that no flow serves get 404 (they never fall through to
 *   the admin app).
 *
 * Upgrades. Node-RED listens for `'upgrade'` on the server it is given. It is given a
 * private EventEmitter instead of the real server; the engine's own `'upgrade'` listener
 * on the real server authorizes and forwards only the upgrades under its roots (others
 * are left to the hub's other listeners, e.g. the broker's `/mqtt`). Sockets forwarded to
 * Node-RED are destroyed on {@link RulesEngine.stop} (Node-RED leaves editor WebSockets
 * open, which would keep `server.close()` waiting forever).
 *
 * Singleton. Node-RED keeps its state in module globals: one engine may run per process.
 * `RED.stop()` is documented as final ("should not be restarted until the Node.JS process
 * is restarted"), but `RED.init()` on a stopped runtime rebuilds its settings, storage,
 * registry, Express apps and editor comms, and core nodes re-register their admin routes:
 * every {@link RulesEngine.start} therefore calls `RED.init` again with its own settings
 * (tests start several hubs with different data dirs in one process). What `RED.stop()`
 * leaves behind is cleaned here: its `'upgrade'` listeners (they were on the private
 * emitter), the editor's open WebSockets, and the 4 `comms:*` listeners the multiplayer
 * module adds to `RED.events` on every start. Left as is: node-red's modules in the
 * require cache, `dns.setDefaultResultOrder('ipv4first')` (set when node-red is first
 * loaded), an `exit` and a `warning` listener on `process`.
 *
 * MQTT. Flows reach the bus through environment variables read with `${VAR}` in node
 * properties and credentials: `VIGIL_MQTT_URL`, `VIGIL_MQTT_USERNAME`,
 * `VIGIL_MQTT_PASSWORD` (set on `process.env` while the engine runs, restored on stop;
 * child processes spawned meanwhile inherit them). The shipped `flows/vigil-default.json`
 * has one `mqtt-broker` config node (MQTT 3.1.1) using them.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createFileExclusiveSync, writeFileAtomicSync } from '../../components/protocol/atomic-write.ts';
import { decryptCredentials, encryptCredentials, mergeShipped, rekeyCredentials, splitCredentials, type ShippedState } from './flow-install.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

/** Outcome of {@link RulesEngineOptions.authorize}: `ok` (an admin), `unauthenticated` (401), `forbidden` (403). */
export type RulesAccess = 'ok' | 'unauthenticated' | 'forbidden';

export interface RulesEngineOptions {
  /** The hub's HTTP server (already created, maybe not listening yet). */
  server: Server;
  /** Node-RED's user directory (flows, credentials, context): created if missing, e.g. `<data_dir>/node-red`. */
  userDir: string;
  /** Folder of shipped flows: `vigil-default.json` is copied to `<userDir>/flows.json` when that file does not exist yet. */
  flowsDir: string;
  /** The bus, exposed to flows as `VIGIL_MQTT_URL`, `VIGIL_MQTT_USERNAME`, `VIGIL_MQTT_PASSWORD` (empty when unset). */
  mqtt: { url: string; username?: string; password?: string };
  logger: Logger;
  /**
   * Decides if a request (or WebSocket upgrade) may reach the editor/admin API: `ok` for
   * admins. Receives the untouched request (full `url`, headers). A rejection answers 500.
   */
  authorize: (req: IncomingMessage) => Promise<RulesAccess>;
  /**
   * The secret Node-RED encrypts `flows_cred.json` with; the hub derives it from its own
   * key (`HubKeys.nodeRedSecret`). Unset: a random `.credential-secret` in `userDir`.
   */
  credentialSecret?: string;
  /** A folder of extra nodes for the palette (Vigil's own, `flows/nodes`): Node-RED's `nodesDir`. */
  nodesDir?: string;
  /** The topic prefix, given to Vigil's nodes as `RED.settings.vigil.prefix`. Default `vigil`. */
  prefix?: string;
  /** Editor and admin API root. Default `/rules`. */
  adminRoot?: string;
  /** Root of `http in` / `websocket in` node endpoints (not admin-checked). Default `/rules/api`. */
  nodeRoot?: string;
  /**
   * Refuse admin requests with unsafe methods (POST, PUT, DELETE, PATCH) and admin
   * upgrades whose `Origin` header names another host than `Host` (requests without
   * `Origin` pass). `true` (default): same host only; a list: also these origins
   * (`https://vigil.example:8443`); `false`: no check.
   */
  checkOrigin?: boolean | string[];
}

/** State of a {@link RulesEngine}. */
export type RulesEngineState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
/** The bits of an Express 4 application used here. */
interface Express4App {
  (req: IncomingMessage, res: ServerResponse, next?: Next): void;
  use(...args: unknown[]): Express4App;
  disable(setting: string): Express4App;
}
/** The bits of node-red's embedding API used here (`node-red/lib/red.js`). */
interface NodeRedApi {
  init(server: unknown, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Express4App;
  readonly httpNode: Express4App;
  readonly version: string | (() => string);
  readonly events: EventEmitter;
  /** The node registry: `getType(type)` is the constructor of an installed node type, else undefined. */
  readonly nodes: { getType(type: string): unknown };
  /** The runtime API (`@node-red/runtime/lib/api/flows.js`). */
  readonly runtime: {
    flows: {
      getFlows(opts: Record<string, unknown>): Promise<{ rev: string; flows: Array<Record<string, unknown> & { id: string }> }>;
      setFlows(opts: { flows: { flows: unknown[]; rev?: string }; deploymentType?: 'full' | 'nodes' | 'flows' | 'reload' }): Promise<{ rev: string }>;
    };
  };
}

/** A flow tab the hub owns: the tab's id and label, and its nodes (config nodes included); `z` is set here. */
export interface OwnedFlow {
  id: string;
  label: string;
  info?: string;
  nodes: Array<Record<string, unknown> & { id: string; type: string }>;
}
/** A Node-RED log record (`@node-red/util/lib/log.js`). */
interface NodeRedLogRecord { level: number; msg: unknown; type?: string; id?: string; name?: string; z?: string }

const DEFAULT_FLOWS = 'vigil-default.json';
const FLOW_FILE = 'flows.json';
const SECRET_FILE = '.credential-secret';
const CRED_FILE = 'flows_cred.json';
const SHIPPED_STATE_FILE = '.vigil-shipped.json';
const ENV_KEYS = ['VIGIL_MQTT_URL', 'VIGIL_MQTT_USERNAME', 'VIGIL_MQTT_PASSWORD'] as const;
const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
/** Node-RED warnings that are expected in this setup (logged at info). */
const BENIGN_WARNINGS = [/^Projects disabled/, /^Encrypted credentials not found/];
/** How long `start()` waits for the flows to be loaded and started. */
const FLOWS_TIMEOUT_MS = 30_000;

// ---- process-wide Node-RED (loaded lazily: importing this module costs nothing) -------
let red: NodeRedApi | undefined;
let express4: (() => Express4App) | undefined;
/** The engine that owns the runtime (starting, running or stopping). */
let owner: RulesEngine | null = null;
/** Serializes every start/stop of every engine. */
let lifecycle: Promise<unknown> = Promise.resolve();

function loadNodeRed(): { red: NodeRedApi; express4: () => Express4App } {
  if (!red || !express4) {
    const req = createRequire(import.meta.url);
    red = req('node-red') as NodeRedApi;
    // node-red's own express (4.x), not the hub's express 5.
    express4 = createRequire(req.resolve('node-red/package.json'))('express') as () => Express4App;
  }
  return { red, express4 };
}

/**
 * Node-RED embedded on the hub's HTTP server. See the module comment for routing, auth,
 * upgrades and the one-per-process rule.
 */
export class RulesEngine {
  /** Normalized roots (no trailing slash). */
  readonly adminRoot: string;
  readonly nodeRoot: string;
  /**
   * Request handler for every request {@link handles} accepts: admin paths are authorized
   * first, then everything goes to the Express 4 app. 503 JSON while not running.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  private app?: Express4App;
  private emitter?: EventEmitter;
  private stateValue: RulesEngineState = 'stopped';
  private flowsState: 'stopped' | 'starting' | 'started' = 'stopped';
  private lastError?: string;
  private flowsProblem?: string;
  private startedAt?: number;
  private version?: string;
  private readonly upgraded = new Set<Duplex>();
  private savedEnv: Array<[string, string | undefined]> = [];
  private eventHooks: Array<[string, (...a: unknown[]) => void]> = [];
  private eventSnapshot = new Map<string | symbol, Set<unknown>>();

  /** @throws Error when a root is not an absolute path other than `/`, or the two roots overlap the wrong way. */
  constructor(private readonly opts: RulesEngineOptions) {
    this.adminRoot = normalizeRoot(opts.adminRoot ?? '/rules', 'adminRoot');
    this.nodeRoot = normalizeRoot(opts.nodeRoot ?? '/rules/api', 'nodeRoot');
    if (this.adminRoot === this.nodeRoot || under(this.adminRoot, this.nodeRoot)) {
      throw new Error(`rules: adminRoot (${this.adminRoot}) must not be nodeRoot (${this.nodeRoot}) or inside it`);
    }
    this.handler = (req, res) => this.dispatch(req, res);
  }

  /** Current state. */
  get state(): RulesEngineState { return this.stateValue; }

  /** True when the request path (`req.url`, query ignored) belongs to Node-RED: `adminRoot` or `nodeRoot` and below. */
  handles(url: string | undefined): boolean {
    const path = rawPath(url);
    return under(path, this.adminRoot) || under(path, this.nodeRoot);
  }

  /**
   * Starts Node-RED: prepares `userDir` (credential secret, default flows on first start),
   * `RED.init` + `RED.start`, and the upgrade listener on the server. Resolves when the
   * runtime and editor are up and the flows started (or failed to: missing node types,
   * undecryptable credentials, 30 s — logged, the editor is up to fix them). No-op when running.
   * @throws Error when another engine runs in this process, or when Node-RED fails to start
   *   (the engine is then `failed` and cleaned up; `start()` may be retried).
   */
  start(): Promise<void> {
    return serialize(() => this.doStart());
  }

  /** Stops Node-RED (flows, editor comms), drops its WebSockets and the upgrade listener. Safe to call twice. */
  stop(): Promise<void> {
    return serialize(() => this.doStop());
  }

  /**
   * Adds or replaces a flow tab the hub owns (the simple rules) through Node-RED's runtime
   * API, saved to `flows.json` as an editor deploy would; only that tab's nodes restart.
   * A flow without nodes removes the tab.
   * @throws Error when the engine is not running, when a node type the flow uses is not
   *   installed (deploying it would stop every flow until the type appears), or when
   *   Node-RED refuses the flow
   */
  async setOwnedFlow(flow: OwnedFlow): Promise<void> {
    if (this.stateValue !== 'running' || !red) throw new Error(`rules: the engine is ${this.stateValue}`);
    const missing = [...new Set(flow.nodes.map((n) => n.type))].filter((t) => !red!.nodes.getType(t));
    if (missing.length) throw new Error(`rules: node types not installed: ${missing.join(', ')}`);
    const current = await red.runtime.flows.getFlows({});
    const others = current.flows.filter((n) => n.id !== flow.id && n.z !== flow.id);
    if (flow.nodes.length === 0) {
      // Nothing to hold: the tab goes (or never appears).
      if (others.length !== current.flows.length) await red.runtime.flows.setFlows({ flows: { flows: others, rev: current.rev }, deploymentType: 'flows' });
      return;
    }
    const tab = { id: flow.id, type: 'tab', label: flow.label, disabled: false, info: flow.info ?? '', env: [] };
    const next = [...others, tab, ...flow.nodes.map((n) => ({ ...n, z: flow.id }))];
    // `flows`: only the tabs that changed restart; `rev` refuses the deploy if an editor deployed meanwhile.
    await red.runtime.flows.setFlows({ flows: { flows: next, rev: current.rev }, deploymentType: 'flows' });
  }

  /** Snapshot for `/api/system`. */
  status(): Record<string, unknown> {
    return {
      state: this.stateValue,
      flows: this.flowsState,
      flows_problem: this.flowsProblem,
      version: this.version,
      admin_root: this.adminRoot,
      node_root: this.nodeRoot,
      user_dir: this.opts.userDir,
      websockets: this.upgraded.size,
      uptime_s: this.startedAt && this.stateValue === 'running' ? (Date.now() - this.startedAt) / 1000 : undefined,
      error: this.lastError,
    };
  }

  // ---- lifecycle -------------------------------------------------------------------

  private async doStart(): Promise<void> {
    if (this.stateValue === 'running') return;
    if (owner && owner !== this) throw new Error('rules: another RulesEngine is running in this process (Node-RED is a per-process singleton); stop it first');
    const { logger, server } = this.opts;
    const nr = loadNodeRed();
    owner = this;
    this.stateValue = 'starting';
    this.lastError = undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const secret = this.prepareUserDir();
      this.setEnv();
      this.emitter = new EventEmitter();
      this.emitter.setMaxListeners(0);
      nr.red.init(this.emitter, this.settings(secret));
      this.snapshotEvents(nr.red.events);
      this.hookEvent(nr.red.events, 'flows:starting', () => { this.flowsState = 'starting'; });
      this.hookEvent(nr.red.events, 'flows:stopped', () => { this.flowsState = 'stopped'; });
      // RED.start() resolves before the flows are loaded (until then the admin API still
      // answers with the previous run's flows): wait for them, or for the reason they won't start.
      const flowsReady = new Promise<string | null>((resolve) => {
        timer = setTimeout(() => resolve(`not started after ${FLOWS_TIMEOUT_MS / 1000} s`), FLOWS_TIMEOUT_MS);
        this.hookEvent(nr.red.events, 'flows:started', () => { this.flowsState = 'started'; resolve(null); });
        this.hookEvent(nr.red.events, 'runtime-event', (e) => {
          const ev = e as { id?: string; payload?: { error?: string; text?: string } } | undefined;
          if (ev?.id === 'runtime-state' && ev.payload?.error) resolve(ev.payload.error);
        });
      });
      const app = nr.express4();
      app.disable('x-powered-by');
      app.use(this.nodeRoot, nr.red.httpNode);
      app.use(this.nodeRoot, notFound);
      app.use(this.adminRoot, nr.red.httpAdmin);
      app.use(notFound);
      app.use((err: unknown, _req: IncomingMessage, res: ServerResponse, _next: Next) => {
        logger.error({ err: errText(err) }, 'rules: request failed');
        if (!res.headersSent) sendError(res, 500, 'internal', 'rules engine error');
        else res.destroy();
      });
      server.on('upgrade', this.onUpgrade);
      await nr.red.start();
      const problem = await flowsReady;
      clearTimeout(timer);
      this.flowsProblem = problem ?? undefined;
      if (problem) logger.warn({ problem }, 'rules: flows did not start (the editor is up: fix them there)');
      this.app = app;
      // `RED.version` is the runtime's getVersion function in 4.1 (a string in older releases);
      // '-git' is appended when a .git folder sits 4 levels above @node-red/runtime/lib (this repo's checkout).
      const v: unknown = nr.red.version;
      this.version = typeof v === 'function' ? String((v as () => unknown)()) : String(v);
      this.startedAt = Date.now();
      this.stateValue = 'running';
      logger.info({ version: this.version, admin: this.adminRoot, node: this.nodeRoot, userDir: this.opts.userDir }, 'rules engine (Node-RED) started');
    } catch (err) {
      clearTimeout(timer);
      this.lastError = errText(err);
      logger.error({ err: this.lastError }, 'rules engine (Node-RED) failed to start');
      await this.teardown(true);
      this.stateValue = 'failed';
      throw err;
    }
  }

  private async doStop(): Promise<void> {
    if (owner !== this || this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.stateValue = 'stopping';
    await this.teardown(false);
    this.stateValue = 'stopped';
    this.opts.logger.info('rules engine (Node-RED) stopped');
  }

  /** Everything `stop` and a failed `start` undo. Never throws. */
  private async teardown(failed: boolean): Promise<void> {
    this.app = undefined;
    this.opts.server.off('upgrade', this.onUpgrade);
    for (const s of this.upgraded) s.destroy();
    this.upgraded.clear();
    if (red) {
      try { await red.stop(); } catch (err) {
        if (!failed) this.opts.logger.warn({ err: errText(err) }, 'rules: Node-RED stop failed');
      }
      this.releaseEvents(red.events);
    }
    this.emitter?.removeAllListeners();
    this.emitter = undefined;
    this.restoreEnv();
    this.flowsState = 'stopped';
    this.flowsProblem = undefined;
    this.startedAt = undefined;
    owner = null;
  }

  // ---- requests ----------------------------------------------------------------------

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const app = this.app;
    if (!app) { sendError(res, 503, 'unavailable', `rules engine is ${this.stateValue}`); return; }
    if (under(rawPath(req.url), this.nodeRoot)) { app(req, res); return; }
    this.checkAdmin(req).then(
      (refusal) => {
        if (refusal) { sendError(res, refusal.status, refusal.code, refusal.message); return; }
        const current = this.app;
        if (!current) { sendError(res, 503, 'unavailable', `rules engine is ${this.stateValue}`); return; }
        res.setHeader('X-Frame-Options', 'SAMEORIGIN');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'same-origin');
        current(req, res);
      },
      (err: unknown) => {
        this.opts.logger.error({ err: errText(err) }, 'rules: authorize failed');
        sendError(res, 500, 'internal', 'authorization failed');
      },
    );
  }

  /** Origin check then `authorize`: null when the admin request may pass. */
  private async checkAdmin(req: IncomingMessage, upgrade = false): Promise<{ status: number; code: string; message: string } | null> {
    if ((upgrade || UNSAFE.has(req.method ?? 'GET')) && !this.originAllowed(req)) {
      return { status: 403, code: 'forbidden', message: 'cross-origin request to the rules editor refused' };
    }
    const access = await this.opts.authorize(req);
    if (access === 'ok') return null;
    if (access === 'unauthenticated') return { status: 401, code: 'unauthorized', message: 'log in as an admin to use the rules editor' };
    return { status: 403, code: 'forbidden', message: 'the rules editor needs the admin role' };
  }

  private originAllowed(req: IncomingMessage): boolean {
    const check = this.opts.checkOrigin ?? true;
    const origin = req.headers.origin;
    if (check === false || origin === undefined) return true;
    if (Array.isArray(check) && check.includes(origin)) return true;
    try { return new URL(origin).host === req.headers.host; } catch { return false; }
  }

  /** The real server's upgrade listener: forwards upgrades under our roots to Node-RED's emitter. */
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!this.handles(req.url)) return;
    const forward = (): void => {
      const emitter = this.emitter;
      if (!emitter || socket.destroyed) { socket.destroy(); return; }
      this.upgraded.add(socket);
      socket.once('close', () => this.upgraded.delete(socket));
      emitter.emit('upgrade', req, socket, head);
    };
    socket.on('error', () => socket.destroy());
    if (under(rawPath(req.url), this.nodeRoot)) { forward(); return; }
    this.checkAdmin(req, true).then(
      (refusal) => {
        if (!refusal) { forward(); return; }
        this.opts.logger.debug({ url: req.url, code: refusal.code }, 'rules: editor WebSocket refused');
        refuseUpgrade(socket, refusal.status, refusal.code, refusal.message);
      },
      (err: unknown) => {
        this.opts.logger.error({ err: errText(err) }, 'rules: authorize failed (upgrade)');
        refuseUpgrade(socket, 500, 'internal', 'authorization failed');
      },
    );
  };

  // ---- settings, user dir, env -------------------------------------------------------

  private settings(credentialSecret: string): Record<string, unknown> {
    return {
      httpAdminRoot: this.adminRoot,
      httpNodeRoot: this.nodeRoot,
      userDir: this.opts.userDir,
      flowFile: FLOW_FILE,
      flowFilePretty: true,
      credentialSecret,
      disableEditor: false,
      editorTheme: {
        projects: { enabled: false },
        tours: false,
        page: { title: 'Vigil rules' },
        header: { title: 'Vigil rules' },
      },
      // No palette installs (no network): allowInstall=false replaces the deprecated editorTheme.palette.editable.
      externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false }, modules: { allowInstall: false } },
      functionExternalModules: false,
      telemetry: { enabled: false, updateNotification: false },
      mqttReconnectTime: 5000,
      ...(this.opts.nodesDir ? { nodesDir: [this.opts.nodesDir] } : {}),
      // Vigil's nodes read the bus connection from here (their config node's embedded mode).
      vigil: { url: this.opts.mqtt.url, username: this.opts.mqtt.username ?? '', password: this.opts.mqtt.password ?? '', prefix: this.opts.prefix ?? 'vigil' },
      logging: {
        vigil: { level: 'info', metrics: false, audit: false, handler: () => (m: NodeRedLogRecord) => this.log(m) },
      },
    };
  }

  /**
   * Creates `userDir`, settles the credential secret and installs or upgrades the shipped
   * flows ({@link mergeShipped}). @returns the credential secret
   * @throws Error when the legacy secret file is empty, or a flow file is not a flow
   */
  private prepareUserDir(): string {
    const { userDir, flowsDir, logger } = this.opts;
    mkdirSync(userDir, { recursive: true });
    const secret = this.credentialSecret();
    const shippedFile = join(flowsDir, DEFAULT_FLOWS);
    if (!existsSync(shippedFile)) {
      logger.warn({ file: shippedFile }, 'rules: no default flows to install');
      return secret;
    }
    const shipped = splitCredentials(JSON.parse(readFileSync(shippedFile, 'utf8')) as unknown, shippedFile);
    const flowFile = join(userDir, FLOW_FILE);
    const stateFile = join(userDir, SHIPPED_STATE_FILE);
    const user = existsSync(flowFile) ? splitCredentials(JSON.parse(readFileSync(flowFile, 'utf8')) as unknown, flowFile).flows : null;
    const previous = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as ShippedState) : {};
    const { flows, state, report } = mergeShipped(user, shipped.flows, previous);
    const changed = !user || report.added.length + report.updated.length + report.removed.length > 0;
    if (changed) writeFileAtomicSync(flowFile, JSON.stringify(flows, null, 4) + '\n');
    writeFileAtomicSync(stateFile, JSON.stringify(state, null, 2) + '\n');
    // Credentials of newly installed shipped nodes join the user's credential file.
    const fresh = report.added.filter((id) => shipped.credentials[id] !== undefined);
    if (fresh.length) {
      const credFile = join(userDir, CRED_FILE);
      const current = existsSync(credFile) ? decryptCredentials(secret, JSON.parse(readFileSync(credFile, 'utf8')) as unknown) : {};
      for (const id of fresh) current[id] = shipped.credentials[id];
      writeFileAtomicSync(credFile, JSON.stringify(encryptCredentials(secret, current), null, 4) + '\n', { mode: 0o600 });
    }
    if (!user) logger.info({ file: flowFile, nodes: flows.length }, 'rules: installed the default flows');
    else if (changed || report.kept.length) logger.info({ ...report }, 'rules: upgraded the shipped flows (nodes you edited are kept)');
    return secret;
  }

  /**
   * The secret Node-RED encrypts credentials with: {@link RulesEngineOptions.credentialSecret}
   * (derived from the hub's key). A random `.credential-secret` left by earlier versions is
   * migrated: `flows_cred.json` is re-encrypted with the hub's secret and the file removed.
   * Without a given secret, that file is read or created (0600).
   * @throws Error when the legacy file is empty or the credential file does not open with it
   */
  private credentialSecret(): string {
    const { userDir, credentialSecret, logger } = this.opts;
    const legacyFile = join(userDir, SECRET_FILE);
    const legacy = existsSync(legacyFile) ? readFileSync(legacyFile, 'utf8').trim() : undefined;
    if (legacy === '') throw new Error(`rules: ${legacyFile} is empty (restore it, or delete it together with flows_cred.json)`);
    if (credentialSecret) {
      if (legacy !== undefined) {
        const credFile = join(userDir, CRED_FILE);
        if (existsSync(credFile)) {
          const body = rekeyCredentials(JSON.parse(readFileSync(credFile, 'utf8')) as unknown, legacy, credentialSecret);
          writeFileAtomicSync(credFile, JSON.stringify(body, null, 4) + '\n', { mode: 0o600 });
        }
        rmSync(legacyFile);
        logger.info('rules: Node-RED credentials now encrypted with the hub\'s key');
      }
      return credentialSecret;
    }
    if (legacy !== undefined) {
      if ((statSync(legacyFile).mode & 0o077) !== 0) chmodSync(legacyFile, 0o600);
      return legacy;
    }
    const secret = randomBytes(32).toString('hex');
    if (!createFileExclusiveSync(legacyFile, secret + '\n', { mode: 0o600 })) return readFileSync(legacyFile, 'utf8').trim();
    return secret;
  }

  private setEnv(): void {
    const { url, username, password } = this.opts.mqtt;
    const values: Record<(typeof ENV_KEYS)[number], string> = { VIGIL_MQTT_URL: url, VIGIL_MQTT_USERNAME: username ?? '', VIGIL_MQTT_PASSWORD: password ?? '' };
    this.savedEnv = ENV_KEYS.map((k) => [k, process.env[k]]);
    for (const k of ENV_KEYS) process.env[k] = values[k];
  }

  private restoreEnv(): void {
    for (const [k, v] of this.savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    this.savedEnv = [];
  }

  // ---- RED.events bookkeeping ------------------------------------------------------------

  private snapshotEvents(events: EventEmitter): void {
    this.eventSnapshot = new Map(events.eventNames().map((n) => [n, new Set<unknown>(events.listeners(n))]));
  }

  private hookEvent(events: EventEmitter, name: string, fn: (...a: unknown[]) => void): void {
    events.on(name, fn);
    this.eventHooks.push([name, fn]);
  }

  /** Removes our listeners and the `comms:*` ones Node-RED's multiplayer module adds on every start. */
  private releaseEvents(events: EventEmitter): void {
    for (const [name, fn] of this.eventHooks) events.off(name, fn);
    this.eventHooks = [];
    for (const name of events.eventNames()) {
      if (typeof name !== 'string' || !name.startsWith('comms:')) continue;
      const before = this.eventSnapshot.get(name);
      for (const fn of events.listeners(name)) {
        if (!before?.has(fn)) events.off(name, fn as (...a: unknown[]) => void);
      }
    }
    this.eventSnapshot.clear();
  }

  // ---- logging ---------------------------------------------------------------------------

  private log(m: NodeRedLogRecord): void {
    const raw = m.msg;
    let text: string;
    if (raw instanceof Error) text = raw.message;
    else if (typeof raw === 'string') text = raw;
    else {
      const message = (raw as { message?: unknown } | null)?.message;
      text = typeof message === 'string' ? message : safeJson(raw);
    }
    text = text.trim();
    if (!text || text.startsWith('Welcome to Node-RED')) return;
    let level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' = m.level <= 10 ? 'fatal' : m.level <= 20 ? 'error' : m.level <= 30 ? 'warn' : m.level <= 40 ? 'info' : m.level <= 50 ? 'debug' : 'trace';
    if (level === 'warn' && BENIGN_WARNINGS.some((re) => re.test(text))) level = 'info';
    const fields: Record<string, unknown> = { module: 'node-red' };
    if (m.type) fields.node = { type: m.type, id: m.id, name: m.name || undefined, flow: m.z };
    this.opts.logger[level](fields, text);
  }
}

// ---- helpers -------------------------------------------------------------------------------

function serialize<T>(fn: () => Promise<T>): Promise<T> {
  const run = lifecycle.then(fn, fn);
  lifecycle = run.catch(() => undefined);
  return run;
}

function normalizeRoot(root: string, what: string): string {
  const r = root.replace(/\/+$/, '');
  if (!r.startsWith('/') || r.length < 2 || /[?#\s]/.test(r)) throw new Error(`rules: ${what} must be an absolute path other than "/" (got ${JSON.stringify(root)})`);
  return r;
}

/** The path of a request target as sent (not decoded, not normalized: what Express 4 routes on). */
function rawPath(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root + '/');
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

const notFound: Middleware = (req, res) => { sendError(res, 404, 'not_found', `nothing at ${rawPath(req.url)}`); };

function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Internal Server Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy());
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeJson(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}
