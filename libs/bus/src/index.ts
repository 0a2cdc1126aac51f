// The bus: NATS names and setup, the run status store, clock alignment between hosts.
// Everything that needs a NATS connection lives here; @kvbench/common keeps the contracts.
export * from './bus.js';
export * from './clock.js';
export * from './run-status-store.js';
export * from './publish.js';
export * from './signing.js';
