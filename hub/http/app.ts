/**
 * The express app: JSON REST API under `/api`, the OpenAPI document, the admin web UI at
 * `/` (www/dist, with an index.html fallback for its routes) and the status page at `/status`.
 * Security headers come from helmet (CSP: scripts only from this origin); every request
 * gets its principal from `auth.ts`; every error is JSON `{error:{code,message,field?}}`.
 */
import express, { type Express } from 'express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera, hasRole } from '../auth/principal.ts';
import { camerasRouter } from './routes-cameras.ts';
import { eventsRouter } from './routes-events.ts';
import { authRouter } from './routes-auth.ts';
import { adminRouter } from './routes-admin.ts';
import { authenticate, requireRole } from './auth.ts';
import { errorHandler, notFound } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { PAGE_SCRIPT, STATUS_PAGE } from './page.ts';
import { createRequire } from 'node:module';
import { recordingsRouter, type RecordingsRouterDeps } from './routes-recordings.ts';
import { PLAYER_PAGE, PLAYER_SCRIPT } from './player-page.ts';
import { liveRouter, type LiveOptions } from './live.ts';
import { LIVE_PAGE, LIVE_PAGE_PATH, LIVE_SCRIPT, LIVE_SCRIPT_PATH } from './live-page.ts';
import { wallRouter } from './routes-wall.ts';
import { rulesRouter } from './routes-rules.ts';
import type { SimpleRules } from '../services/simple-rules.ts';
import { kioskRouter } from './kiosk-page.ts';
import { webUiRouter } from './web-ui.ts';
import type { WallService } from '../services/wall-service.ts';
import type { EventTriggers } from '../services/event-triggers.ts';
import { onvifRouter } from './routes-onvif.ts';
import type { OnvifService } from '../onvif/onvif-service.ts';
import { facesRouter } from './routes-faces.ts';
import { headsRouter } from './routes-heads.ts';
import { systemRouter, type SystemRouterDeps } from './routes-system.ts';
import type { HeadService } from '../heads/head-service.ts';
import type { FaceService } from '../services/faces.ts';

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
import type { CameraService } from '../services/camera-service.ts';
import type { EventStore } from '../services/event-store.ts';
import type { SystemStatus } from '../services/system-status.ts';
import type { EventsRepo } from '../store/events-repo.ts';

export interface AppDeps {
  version: string;
  logger: Logger;
  auth: AuthService;
  cameras: CameraService;
  events: EventsRepo;
  eventStore: EventStore;
  status: SystemStatus;
  /** Proxies whose X-Forwarded-For is believed (express `trust proxy`); empty = none. */
  trustedProxies: string[];
  /** Mark cookies `Secure` (behind HTTPS). */
  secureCookies: boolean;
  /** Synthetic events into the rules engine. */
  triggers: EventTriggers;
  /** The simple rules. */
  rules: SimpleRules;
  /** Layouts, kiosks, displays, pairing and activation. */
  wall: WallService;
  /** ONVIF discovery, probing, and cameras from devices. */
  onvif: OnvifService;
  /** Known faces: enrolled images and unknown faces. */
  faces: FaceService;
  /** Camera heads on the bus. */
  heads: HeadService;
  /** Playback and exports. */
  recordings: RecordingsRouterDeps;
  /** Live view (MJPEG routes; the MSE WebSocket is attached to the server by the hub). */
  live: LiveOptions;
  /** `/api/system` body (`process` is shown to admins only). */
  system: () => Promise<Record<string, unknown> & { cameras: Record<string, unknown> }>;
  /** Metrics history, logs tail and settings (`routes-system.ts`). */
  systemRoutes: Omit<SystemRouterDeps, 'auth'>;
  /** Readiness: null when ready, else the reason. */
  health: () => string | null;
}

export function createApp(d: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', d.trustedProxies.length ? d.trustedProxies : false);
  app.use(helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'", 'ws:', 'wss:'], mediaSrc: ["'self'", 'blob:'], frameAncestors: ["'none'"], objectSrc: ["'none'"], upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: d.secureCookies,
  }));
  app.use(express.json({ limit: '1mb' }));
  app.use(cookieParser());
  app.use('/api', authenticate(d.auth));
  app.get('/api/health', (_req, res) => {
    const problem = d.health();
    if (problem) res.status(503).json({ error: { code: 'not_ready', message: problem } });
    else res.json({ status: 'ok' });
  });
  app.get('/api/system', requireRole('viewer'), (req, res, next) => {
    // Viewers see their cameras only; the component internals (which name every camera) are for operators and admins.
    d.system().then((s) => {
      const cameras = Object.fromEntries(Object.entries(s.cameras).filter(([c]) => canSeeCamera(req.principal, c)));
      const { process: proc, ...rest } = s;
      res.json(hasRole(req.principal, 'admin') ? { ...rest, process: proc, cameras } : hasRole(req.principal, 'operator') ? { ...rest, cameras } : { version: s.version, uptime_s: s.uptime_s, cameras });
    }, next);
  });
  app.get('/api/openapi.json', (_req, res) => { res.json(openApiDocument(d.version)); });
  app.use('/api/auth', authRouter(d.auth, { secureCookies: d.secureCookies }));
  app.use('/api/cameras', liveRouter(d.live));
  app.use('/api/cameras', camerasRouter(d.cameras, d.status, d.auth));
  app.use('/api/events', eventsRouter(d.events, d.eventStore, d.auth, d.triggers, d.recordings.exports));
  app.use('/api', adminRouter(d.auth, d.events));
  app.use('/api', recordingsRouter(d.recordings));
  app.use('/api', wallRouter(d.wall, d.auth));
  app.use('/api', rulesRouter(d.rules, d.auth));
  app.use('/api', onvifRouter(d.onvif, d.auth));
  app.use('/api', facesRouter(d.faces, d.auth));
  app.use('/api', headsRouter(d.heads));
  app.use('/api', systemRouter({ ...d.systemRoutes, auth: d.auth }));
  app.use('/api', notFound);
  app.get('/status', (_req, res) => { res.type('html').send(STATUS_PAGE); });
  app.get('/app.js', (_req, res) => { res.type('text/javascript').send(PAGE_SCRIPT); });
  app.get(LIVE_PAGE_PATH, (_req, res) => { res.type('html').send(LIVE_PAGE); });
  app.get(LIVE_SCRIPT_PATH, (_req, res) => { res.type('text/javascript').send(LIVE_SCRIPT); });
  app.use('/kiosk', kioskRouter());
  app.get('/player.html', (_req, res) => { res.type('html').send(PLAYER_PAGE); });
  app.get('/player.js', (_req, res) => { res.type('text/javascript').send(PLAYER_SCRIPT); });
  app.get('/vendor/hls.min.js', (_req, res) => { res.sendFile(HLS_JS, { maxAge: '7d' }); });
  // Last: the web UI's files, and index.html for any other page path (never for the routes above).
  app.use(webUiRouter());
  app.use(errorHandler(d.logger));
  return app;
}
