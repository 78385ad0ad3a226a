/** `http:` — the REST API, web page and MQTT-over-WebSocket listener. */
import { z } from 'zod';

export const httpSection = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port (0 = pick a free one).'),
    host: z.string().default('0.0.0.0').describe('Address to bind.'),
    trusted_proxies: z
      .array(z.string().min(1))
      .default([])
      .describe('Reverse proxies whose X-Forwarded-For is believed (IPs/CIDRs, or `loopback`); empty = none.'),
    secure_cookies: z.boolean().default(false).describe('Mark session cookies `Secure` and send HSTS (set when served over HTTPS).'),
  })
  .strict();
