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
    dynamic_security: z
      .boolean()
      .default(false)
      .describe(
        "External Mosquitto 2 broker: manage its dynamic security plugin from Vigil's users, API keys and devices "
          + '(clients and roles from the same ACL table as the embedded broker, kept in step on every change). '
          + '`mqtt.username` must be the plugin\'s admin (`mosquitto_ctrl dynsec init`); without the plugin the hub '
          + 'does not start (docs/security.md, "External broker").',
      ),
    protocol_version: z
      .union([z.literal(4), z.literal(5)])
      .default(4)
      .describe("MQTT protocol version of Vigil's clients: 4 = 3.1.1 (aedes), 5 with an external MQTT 5 broker."),
    prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('vigil').describe('Topic prefix.'),
    port: z.number().int().min(0).max(65535).default(1883).describe('Embedded broker: TCP listener port (0 = pick a free one).'),
    host: z.string().default('0.0.0.0').describe('Embedded broker: address to bind.'),
    websocket: z.boolean().default(true).describe('Serve MQTT over WebSocket at `/mqtt` on the HTTP port: the embedded broker, or with `dynamic_security` a relay to the external broker (docs/security.md).'),
    max_packet_size: z
      .number()
      .int()
      .min(65_536)
      .max(268_435_460)
      .default(16_777_216)
      .describe(
        'Embedded broker: largest MQTT packet accepted from a client, bytes (the whole packet, header included). '
          + 'A bigger one is refused as soon as its header arrives, logged, and its connection closed (Mosquitto 2 '
          + '`max_packet_size`). Default 16 MiB: above the largest message Vigil sends (a 10 MiB face image), far below '
          + "MQTT's 256 MiB ceiling, so no client can make the hub buffer more (docs/mqtt.md).",
      ),
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
