/**
 * A connection to Mosquitto 2's dynamic security plugin as its admin: JSON commands on
 * `$CONTROL/dynamic-security/v1`, answers on `$CONTROL/dynamic-security/v1/response`
 * (plugin `README.md`: `{"commands": [{"command": …, "correlationData": …}]}` →
 * `{"responses": [{"command", "error"?, "data"?, "correlationData"}]}`), each command
 * matched to its answer by `correlationData`.
 *
 * Telling why the plugin does not answer: the broker refusing the subscription to the
 * response topic (SUBACK 0x80 / 0x87) means the plugin is there but this account is not
 * its admin (or an ACL file refuses `$CONTROL`); a granted subscription and no answer
 * within the timeout means the plugin is not loaded (Mosquitto drops `$CONTROL` publishes
 * no plugin takes).
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

/** Request topic of the plugin's v1 API. */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
/** Where the plugin answers (to the requesting client only). */
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;
/**
 * How long a command may wait for its answer, ms. The plugin answers at once (it runs in
 * the broker's thread); 5 s leaves room for a loaded broker on a small machine.
 */
export const DYNSEC_TIMEOUT_MS = 5_000;

/** One command (`createClient`, `modifyRole`, …) with its fields. */
export interface DynsecCommand { command: string; [field: string]: unknown }
/** The plugin's answer to one command. */
export interface DynsecAnswer { command: string; error?: string; data?: unknown; correlationData?: string }

/** The mosquitto.conf lines that load the plugin (Debian's path; the file is made once by `mosquitto_ctrl dynsec init`). */
export function pluginConfLines(file = '/var/lib/mosquitto/dynamic-security.json'): string[] {
  return [
    'per_listener_settings false',
    'allow_anonymous false',
    'plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
    `plugin_opt_config_file ${file}`,
  ];
}

/** Why the plugin cannot be driven; the message says what to do. */
export class DynsecUnavailable extends Error {
  constructor(readonly reason: 'not_loaded' | 'not_admin' | 'no_broker', message: string) {
    super(message);
    this.name = 'DynsecUnavailable';
  }
}

/** Connection options of {@link DynsecClient}. */
export interface DynsecClientOptions {
  url: string;
  /** The plugin admin's account (`mqtt.username` / `mqtt.password`). */
  username: string;
  password: string;
  protocolVersion: 4 | 5;
  logger: Logger;
  /** Per command batch, ms; default {@link DYNSEC_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** The plugin's admin connection. Commands run in the order sent. */
export class DynsecClient {
  private client?: MqttClient;
  private seq = 0;
  private readonly pending = new Map<string, { answers: Array<DynsecAnswer | undefined>; left: number; done: (a: DynsecAnswer[]) => void }>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly messageListeners = new Set<(topic: string, payload: Buffer) => void>();
  private readonly timeoutMs: number;

  constructor(private readonly opts: DynsecClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? DYNSEC_TIMEOUT_MS;
  }

  /** True while connected. */
  get connected(): boolean { return this.client?.connected ?? false; }

  /**
   * Connects and subscribes the response topic.
   * @throws DynsecUnavailable `no_broker` (no CONNACK within the timeout, or refused
   *   credentials), `not_admin` (the subscription to the response topic refused)
   */
  async connect(): Promise<void> {
    const { opts } = this;
    const client = mqtt.connect(opts.url, {
      username: opts.username, password: opts.password, protocolVersion: opts.protocolVersion,
      clientId: `vigil-dynsec-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 1_000, connectTimeout: this.timeoutMs,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => opts.logger.debug({ err: err.message }, 'dynsec connection error'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new DynsecUnavailable('no_broker', `no answer from the MQTT broker at ${redact(opts.url)} within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
        if (err) { client.end(true); reject(err); } else resolve();
      };
      const onConnect = (): void => finish();
      const onError = (err: Error & { code?: number }): void => {
        if (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135) finish(new DynsecUnavailable('no_broker', `the MQTT broker refused ${opts.username}'s login (${err.message}): check mqtt.username / mqtt.password`));
      };
      client.on('connect', onConnect);
      client.on('error', onError);
    });
    await this.subscribe();
    // After a broker restart or a kick: subscribe again, then tell the sync.
    client.on('connect', () => {
      void this.subscribe().then(() => { for (const l of this.reconnectListeners) l(); }, (err: Error) => opts.logger.error({ err: err.message }, 'dynamic security: resubscribing failed'));
    });
  }

  /** Calls `listener` after each reconnect (once the response topic is subscribed again). */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /**
   * Subscribes `filter` on this connection (the sync reads the camera configs with it);
   * `listener` gets every message that is not a dynamic-security answer.
   */
  async watch(filter: string, listener: (topic: string, payload: Buffer) => void): Promise<void> {
    this.messageListeners.add(listener);
    await this.requireClient().subscribeAsync(filter, { qos: 1 });
  }

  /**
   * Sends commands in one message and waits for every answer.
   * @returns the answers, in the commands' order (a refused command has `error`)
   * @throws DynsecUnavailable `not_loaded` when no answer comes within the timeout
   */
  async send(commands: DynsecCommand[]): Promise<DynsecAnswer[]> {
    if (commands.length === 0) return [];
    const client = this.requireClient();
    if (!client.connected) throw new DynsecUnavailable('no_broker', `not connected to the MQTT broker at ${redact(this.opts.url)}`);
    const batch = String(++this.seq);
    const answers = new Promise<DynsecAnswer[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(batch);
        reject(notLoaded(this.opts.username, this.timeoutMs));
      }, this.timeoutMs);
      this.pending.set(batch, { answers: commands.map(() => undefined), left: commands.length, done: (a) => { clearTimeout(timer); resolve(a); } });
    });
    const body = { commands: commands.map((c, i) => ({ ...c, correlationData: `${batch}.${i}` })) };
    client.publish(DYNSEC_TOPIC, JSON.stringify(body), { qos: 1 }, (err) => { if (err) this.opts.logger.debug({ err: err.message }, 'dynsec publish failed'); });
    return answers;
  }

  /**
   * Sends commands that make the broker drop this very connection (a role given to the
   * admin's own account: the plugin kicks its clients), and waits until it is back.
   */
  async sendAndReconnect(commands: DynsecCommand[]): Promise<void> {
    const client = this.requireClient();
    const back = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new DynsecUnavailable('no_broker', `not reconnected within ${(this.timeoutMs * 2) / 1000} s after changing ${this.opts.username}'s roles`)); }, this.timeoutMs * 2);
      const off = this.onReconnect(() => { clearTimeout(timer); off(); resolve(); });
    });
    // The answer is usually lost with the connection: wait for the reconnect, not for it.
    this.send(commands).catch(() => undefined);
    await back;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    for (const p of this.pending.values()) p.done([]);
    this.pending.clear();
    await this.client?.endAsync(true).catch(() => undefined);
  }

  private async subscribe(): Promise<void> {
    // mqtt.js rejects a SUBACK 0x80 / 0x87 ("Subscribe error"); newer versions may resolve with it.
    const granted = await this.requireClient().subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 }).catch(() => [{ qos: 0x80 }]);
    if (granted.some((g) => g.qos >= 0x80)) {
      throw new DynsecUnavailable('not_admin', `the MQTT broker refused ${this.opts.username}'s subscription to ${DYNSEC_RESPONSE_TOPIC}: `
        + `the dynamic security plugin is loaded but ${this.opts.username} is not its admin (or an ACL refuses $CONTROL). `
        + `Give mqtt.username the plugin's admin role: mosquitto_ctrl dynsec init makes such an account; or mosquitto_ctrl -u <admin> … dynsec addClientRole ${this.opts.username} admin`);
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== DYNSEC_RESPONSE_TOPIC) {
      for (const l of this.messageListeners) l(topic, payload);
      return;
    }
    let body: { responses?: DynsecAnswer[] };
    try { body = JSON.parse(payload.toString()) as typeof body; } catch { return; }
    for (const a of body.responses ?? []) {
      const [batch, index] = String(a.correlationData ?? '').split('.');
      const p = this.pending.get(batch ?? '');
      const i = Number(index);
      if (!p || !Number.isInteger(i) || i < 0 || i >= p.answers.length || p.answers[i]) continue;
      p.answers[i] = a;
      if (--p.left === 0) {
        this.pending.delete(batch!);
        p.done(p.answers as DynsecAnswer[]);
      }
    }
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('dynamic security client not connected');
    return this.client;
  }
}

/** The error of a command nobody answered: the plugin is not loaded (with the lines to add). */
function notLoaded(username: string, timeoutMs: number): DynsecUnavailable {
  return new DynsecUnavailable('not_loaded', `Mosquitto's dynamic security plugin did not answer on ${DYNSEC_RESPONSE_TOPIC} within ${timeoutMs / 1000} s: it is not loaded. `
    + `Add to mosquitto.conf:\n  ${pluginConfLines().join('\n  ')}\n`
    + `create the file once with: mosquitto_ctrl dynsec init /var/lib/mosquitto/dynamic-security.json ${username} (it asks for mqtt.password), `
    + 'restart Mosquitto, then the hub (docs/security.md, "External broker").');
}

function redact(url: string): string {
  try { const u = new URL(url); u.username = ''; u.password = ''; return u.toString(); } catch { return url; }
}
