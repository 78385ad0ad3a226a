/**
 * Vigil's layer rules (docs/architecture.md, "Layers"), checked by `npm run deps` and by
 * test/architecture.test.ts in `npm test`. Tests and benchmarks may import anything.
 *
 * - components/protocol/ is the bus protocol every client and the hub share; it imports
 *   nothing else of Vigil.
 * - Bus clients (components/*, kiosk-client/, head-firmware/, flows/, www/) never import hub/.
 * - The hub imports client code only through the protocol and a component's index.ts.
 * - A component never reaches into another component's internals.
 * - HTTP is one layer: only hub/http/ (and hub/hub.ts, which assembles the server) imports
 *   hub/http/ or express; services and auth throw domain errors (hub/errors.ts).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'protocol-stands-alone',
      comment: 'components/protocol/ is imported by every bus client and the hub: it may import only itself and packages.',
      severity: 'error',
      from: { path: '^components/protocol/' },
      to: { path: '^(hub|kiosk-client|head-firmware|flows|www|components/(?!protocol/))' },
    },
    {
      name: 'clients-never-import-hub',
      comment: 'Bus clients speak MQTT to the hub; they never import it. Put shared code in components/protocol/.',
      severity: 'error',
      from: { path: '^(components|kiosk-client|head-firmware|flows|www)/' },
      to: { path: '^hub/' },
    },
    {
      name: 'hub-uses-component-entry-points',
      comment: "The hub imports client code only from components/protocol/ and a component's index.ts, never its internals.",
      severity: 'error',
      from: { path: '^hub/' },
      to: { path: '^(components|kiosk-client|head-firmware|flows|www)/', pathNot: '^components/(protocol/|[^/]+/index\\.ts$)' },
    },
    {
      name: 'components-keep-to-themselves',
      comment: "A component imports its own files and the protocol; another component only through its index.ts.",
      severity: 'error',
      from: { path: '^components/([^/]+)/' },
      to: { path: '^components/', pathNot: ['^components/$1/', '^components/protocol/', '^components/[^/]+/index\\.ts$'] },
    },
    {
      name: 'component-runner-uses-entry-points',
      comment: "components/main.ts runs components through their index.ts.",
      severity: 'error',
      from: { path: '^components/[^/]+\\.ts$' },
      to: { path: '^components/[^/]+/', pathNot: '^components/(protocol/|[^/]+/index\\.ts$)' },
    },
    {
      name: 'only-http-knows-http',
      comment: 'Services, auth, store and broker throw domain errors (hub/errors.ts); hub/http/ maps them to status codes.',
      severity: 'error',
      from: { path: '^hub/', pathNot: '^hub/(http/|hub\\.ts$)' },
      to: { path: '^hub/http/' },
    },
    {
      name: 'only-http-imports-express',
      comment: 'Express is the HTTP layer: only hub/http/ uses it (Node-RED brings its own Express 4).',
      severity: 'error',
      from: { path: '^(hub|components)/', pathNot: '^hub/http/' },
      to: { path: 'node_modules/express/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|test|bench|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
