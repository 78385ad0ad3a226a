/** `mqtt:` — the bus: embedded aedes, or an external broker. */
import { z } from 'zod';

export const mqttSection = z
  .object({
    /** External broker URL (`mqtt://host:1883`, `mqtts://…`, `ws://…`). Unset: run the embedded broker. */
    url: z.string().regex(/^(mqtts?|wss?):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL').optional(),
    /** Credentials of the hub's own client on an external broker. */
    username: z.string().optional(),
    password: z.string().optional(),
    /** MQTT protocol version of Vigil's clients: 4 = 3.1.1 (aedes), 5 with an external MQTT 5 broker. */
    protocol_version: z.union([z.literal(4), z.literal(5)]).default(4),
    /** Topic prefix. */
    prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('vigil'),
    /** Embedded broker: TCP listener port (0 = pick a free one). */
    port: z.number().int().min(0).max(65535).default(1883),
    /** Embedded broker: address to bind. */
    host: z.string().default('0.0.0.0'),
    /** Embedded broker: serve MQTT over WebSocket at `/mqtt` on the HTTP port. */
    websocket: z.boolean().default(true),
    /**
     * Embedded broker: let clients without credentials in, from loopback only, read-only on
     * display topics (a kiosk on the same machine). Every other client authenticates as a
     * user, with an API key or with device credentials (docs/security.md).
     */
    allow_anonymous: z.boolean().default(false),
  })
  .strict();
