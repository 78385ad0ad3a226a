/**
 * The express app: JSON REST API under `/api`, the OpenAPI document, and the page at `/`.
 * Every error is JSON `{error:{code,message,field?}}` (see `errors.ts`).
 */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { camerasRouter } from './routes-cameras.ts';
import { eventsRouter } from './routes-events.ts';
import { errorHandler, notFound } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { STATUS_PAGE } from './page.ts';
import type { CameraService } from '../services/camera-service.ts';
import type { EventStore } from '../services/event-store.ts';
import type { SystemStatus } from '../services/system-status.ts';
import type { EventsRepo } from '../store/events-repo.ts';

export interface AppDeps {
  version: string;
  logger: Logger;
  cameras: CameraService;
  events: EventsRepo;
  eventStore: EventStore;
  status: SystemStatus;
  /** `/api/system` body. */
  system: () => Promise<Record<string, unknown>>;
  /** Readiness: null when ready, else the reason. */
  health: () => string | null;
}

export function createApp(d: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  app.get('/api/health', (_req, res) => {
    const problem = d.health();
    if (problem) res.status(503).json({ error: { code: 'not_ready', message: problem } });
    else res.json({ status: 'ok' });
  });
  app.get('/api/system', (_req, res, next) => { d.system().then((s) => res.json(s), next); });
  app.get('/api/openapi.json', (_req, res) => { res.json(openApiDocument(d.version)); });
  app.use('/api/cameras', camerasRouter(d.cameras, d.status));
  app.use('/api/events', eventsRouter(d.events, d.eventStore));
  app.use('/api', notFound);
  app.get('/', (_req, res) => { res.type('html').send(STATUS_PAGE); });
  app.use(errorHandler(d.logger));
  return app;
}
