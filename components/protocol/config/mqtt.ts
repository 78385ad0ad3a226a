/** `mqtt:` — the bus: embedded aedes, or an external broker. */
import { z } from 'zod';

export const mqttSection = z
  .object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
      .optional()
      .describe('External broker URL (`mqtt://host:1883`, `mqtts://…`, `ws://…`). Unset: run the embedded broker.'),
    username: z.string().optional().describe("Credentials of the hub's own client on an external broker: the user name."),
    password: z.string().optional().describe("Credentials of the hub's own client on an external broker: the password."),
    protocol_version: z
      .union([z.literal(4), z.literal(5)])
      .default(4)
      .describe("MQTT protocol version of Vigil's clients: 4 = 3.1.1 (aedes), 5 with an external MQTT 5 broker."),
    prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('vigil').describe('Topic prefix.'),
    port: z.number().int().min(0).max(65535).default(1883).describe('Embedded broker: TCP listener port (0 = pick a free one).'),
    host: z.string().default('0.0.0.0').describe('Embedded broker: address to bind.'),
    websocket: z.boolean().default(true).describe('Embedded broker: serve MQTT over WebSocket at `/mqtt` on the HTTP port.'),
    allow_anonymous: z
      .boolean()
      .default(false)
      .describe(
        'Embedded broker: let clients without credentials in, from loopback only, read-only on display topics '
          + '(a kiosk on the same machine). Every other client authenticates as a user, with an API key or with '
          + 'device credentials (docs/security.md).',
      ),
  })
  .strict();
