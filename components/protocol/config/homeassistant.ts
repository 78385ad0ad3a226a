/** `homeassistant:` — Home Assistant MQTT discovery (docs/home-assistant.md). */
import { z } from 'zod';

/** The `homeassistant` section of the hub's configuration. */
export const homeassistantSection = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Publish Home Assistant MQTT discovery configs (retained) for the hub, cameras, zones, displays and kiosks.'),
    discovery_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('homeassistant')
      .describe("Home Assistant's discovery prefix (its MQTT integration's setting); its birth message is read on `<prefix>/status`."),
    base_url: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL')
      .optional()
      .describe("The hub's page as Home Assistant's users reach it (the devices' `configuration_url`); default `http://<hostname>:<http.port>/`."),
  })
  .strict();
