/** `http:` — the REST API, web page and MQTT-over-WebSocket listener. */
import { z } from 'zod';

export const httpSection = z
  .object({
    /** TCP port (0 = pick a free one). */
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().default('0.0.0.0'),
  })
  .strict();
