/**
 * Management over MQTT, in Zigbee2MQTT's form (`lib/extension/bridge.ts`): a JSON request
 * on `vigil/bridge/request/<op>` is answered on `vigil/bridge/response/<op>` (QoS 1, not
 * retained) with `{status: 'ok', data, transaction?}` or
 * `{status: 'error', error, code, field?, transaction?}`; the request's `transaction`
 * (a string of at most 128 characters, or a number) is echoed whenever the payload parsed.
 *
 * Who asks decides what may be done, as over REST:
 * - with the embedded broker, the broker policy hands each request over with the
 *   publishing client's principal (`BrokerPolicy.onBridgeRequest`) and delivers it to no
 *   subscriber, so it runs once and nobody reads another's request;
 * - with an external broker there is no principal: the hub's bus client subscribes
 *   `vigil/bridge/request/#` and runs every request as an admin. The broker's own ACL must
 *   keep that topic to trusted clients (docs/security.md). A retained request delivered
 *   again on subscribe (after a restart) is refused, not run twice.
 *
 * Every request ends in exactly one response: handlers throw, one catch answers (domain
 * errors with their code and field, anything else as `internal_error`) and logs it.
 *
 * Also published, retained: `vigil/bridge/info` ({@link BridgeInfo}; at start and when a
 * camera is added, changed or removed) and `vigil/bridge/state` — `{"state":"online"}` at
 * start, `{"state":"offline"}` at a clean stop. The hub's bus client already carries the
 * last will on `vigil/hub/availability` (one will per connection), so a crash shows there.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { Principal } from '../auth/principal.ts';
import type { BridgeRequestHandler } from '../broker/policy.ts';
import { DomainError, InvalidInput } from '../errors.ts';
import type { BridgeInfo } from './info.ts';
import type { Operations } from './operations.ts';
import { actingPrincipal } from './roles.ts';

/** A request's `transaction`, echoed in its response. */
export type Transaction = string | number;

/** The body of `vigil/bridge/response/<op>`. */
export type BridgeResponse =
  | { status: 'ok'; data: unknown; transaction?: Transaction }
  | { status: 'error'; error: string; code: string; field?: string; transaction?: Transaction };

/** The principal of requests that come through an external broker (which names no sender). */
export const EXTERNAL_REQUESTER: Principal = { kind: 'internal', id: 'external-broker', name: 'mqtt (external broker)', role: 'admin', cameras: null };

/** Longest `transaction` string echoed. */
export const MAX_TRANSACTION = 128;

/** Delay before `bridge/info` is re-published after a camera change, ms (a burst of configs gives one message). */
const INFO_DEBOUNCE_MS = 100;

/** What {@link BridgeApi} needs. */
export interface BridgeApiDeps {
  /** The hub's own bus client. */
  bus: Bus;
  topics: Topics;
  logger: Logger;
  operations: Operations;
  /** The embedded broker's policy (requests come through its hook); absent with an external broker. */
  policy?: { onBridgeRequest?: BridgeRequestHandler };
  /** The current `bridge/info` body. */
  info: () => Promise<BridgeInfo>;
}

/**
 * Parses a request payload: empty = `{}`, else a JSON object whose `transaction` is split off.
 * @throws InvalidInput `invalid_json` (not JSON), `validation_failed` (not an object, or a bad `transaction`)
 */
export function parseRequest(payload: Buffer): { body: Record<string, unknown>; transaction?: Transaction } {
  const text = payload.toString('utf8').trim();
  if (!text) return { body: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`request body: ${(err as Error).message}`, undefined, 'invalid_json');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidInput('request body must be a JSON object');
  const { transaction, ...body } = raw as Record<string, unknown>;
  if (transaction === undefined) return { body };
  const ok = (typeof transaction === 'string' && transaction.length <= MAX_TRANSACTION) || (typeof transaction === 'number' && Number.isFinite(transaction));
  if (!ok) throw new InvalidInput(`transaction: must be a string of at most ${MAX_TRANSACTION} characters or a number`, 'transaction');
  return { body, transaction: transaction as Transaction };
}

/** The bridge: requests, responses, info and state. One per hub. */
export class BridgeApi {
  /** Requests answered, and how many of them with an error. */
  readonly stats = { requests: 0, errors: 0 };
  private infoTimer?: NodeJS.Timeout;
  private lastInfo = '';
  private stopped = false;

  constructor(private readonly d: BridgeApiDeps) {}

  /** Takes requests (policy hook or bus subscription), publishes `bridge/info` and `bridge/state` online. */
  async start(): Promise<void> {
    const { bus, topics, policy } = this.d;
    if (policy) {
      policy.onBridgeRequest = (p, topic, payload, ip) => {
        this.handle(p, topic, payload, ip).catch((err: Error) => this.d.logger.error({ topic, err: err.message }, 'bridge request failed'));
      };
    } else {
      await bus.subscribe(topics.sub.bridgeRequests(), (topic, payload, { retain }) => this.handle(EXTERNAL_REQUESTER, topic, payload, null, retain));
    }
    await bus.subscribe(topics.sub.cameraConfigs(), () => this.scheduleInfo());
    await this.publishInfo();
    bus.publishState(topics.bridgeState(), { state: 'online' });
  }

  /** Stops taking requests and publishes `bridge/state` offline (retained). */
  async stop(): Promise<void> {
    const { bus, topics, policy } = this.d;
    this.stopped = true;
    clearTimeout(this.infoTimer);
    if (policy) policy.onBridgeRequest = undefined;
    else await bus.unsubscribe(topics.sub.bridgeRequests()).catch(() => undefined);
    bus.publishState(topics.bridgeState(), { state: 'offline' });
  }

  /**
   * Runs one request and publishes its response; never throws.
   * @param principal who published it (the policy's, or {@link EXTERNAL_REQUESTER})
   * @param ip the client's address, for the activity log
   * @param retained true when the broker delivered a stored (retained) request: refused
   */
  async handle(principal: Principal, topic: string, payload: Buffer, ip: string | null, retained = false): Promise<void> {
    const { logger: log, topics } = this.d;
    const parsed = topics.parse(topic);
    if (parsed?.kind !== 'bridge.request') {
      this.d.bus.warnBadMessage(topic, 'malformed-topic', 'bridge request on a malformed topic dropped (no response topic)', { principal: principal.name }, log);
      return;
    }
    const { op } = parsed;
    let transaction: Transaction | undefined;
    let response: BridgeResponse;
    try {
      const req = parseRequest(payload);
      transaction = req.transaction;
      if (retained) throw new InvalidInput('a retained request is not run (it would run again at every start); publish requests without retain and clear this one', undefined, 'retained_request');
      const data = await this.d.operations.run(op, { principal: actingPrincipal(principal), ip, body: req.body });
      response = { status: 'ok', data: data ?? null, ...(transaction !== undefined ? { transaction } : {}) };
      log.info({ op, principal: principal.name }, 'bridge request done');
    } catch (err) {
      const e = err instanceof DomainError ? err : undefined;
      // Answered every time below; logged once per (topic, kind of refusal) a minute.
      if (e) this.d.bus.warnBadMessage(topic, `refused-${e.kind}`, 'bridge request refused', { op, principal: principal.name, code: e.code, err: e.message }, log);
      else log.error({ op, principal: principal.name, err: (err as Error)?.stack ?? String(err) }, 'bridge request failed');
      response = {
        status: 'error', error: e?.message ?? 'internal error', code: e?.code ?? 'internal_error',
        ...(e?.field ? { field: e.field } : {}), ...(transaction !== undefined ? { transaction } : {}),
      };
      this.stats.errors++;
    }
    this.stats.requests++;
    await this.d.bus.publish(topics.bridgeResponse(op), response, { qos: 1 })
      .catch((err: Error) => log.warn({ op, err: err.message }, 'bridge response not published'));
  }

  private scheduleInfo(): void {
    if (this.stopped) return;
    clearTimeout(this.infoTimer);
    this.infoTimer = setTimeout(() => { void this.publishInfo(); }, INFO_DEBOUNCE_MS);
    this.infoTimer.unref();
  }

  /** Publishes `bridge/info` (retained) when it changed. */
  private async publishInfo(): Promise<void> {
    try {
      const text = JSON.stringify(await this.d.info());
      if (text === this.lastInfo || this.stopped) return;
      this.lastInfo = text;
      this.d.bus.publishState(this.d.topics.bridgeInfo(), text);
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'bridge/info not published');
    }
  }
}
