/**
 * Turns off zod's JIT before any schema is built. Zod probes `new Function` when an object
 * schema is constructed; under the page's CSP (`script-src 'self'`, no `unsafe-eval`) that
 * probe is reported as a CSP violation in the console. Import this module first.
 */
import { z } from 'zod';

z.config({ jitless: true });
