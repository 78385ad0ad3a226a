/** `http:` — the REST API, web page and MQTT-over-WebSocket listener. */
import { z } from 'zod';

export const httpSection = z
  .object({
    /** TCP port (0 = pick a free one). */
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().default('0.0.0.0'),
    /** Reverse proxies whose X-Forwarded-For is believed (IPs/CIDRs, or `loopback`); empty = none. */
    trusted_proxies: z.array(z.string().min(1)).default([]),
    /** Mark session cookies `Secure` and send HSTS (set when served over HTTPS). */
    secure_cookies: z.boolean().default(false),
  })
  .strict();
