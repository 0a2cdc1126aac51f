/**
 * The built-in simulator: launched through exactly trtllm-serve's path (config file, argv, /health), so
 * it shares the TensorRT-LLM adapter's reader, clock relation and join; what differs is that its figures
 * are simulated and its time may be scaled. Kept small so other clocks (a virtual one) can plug in here.
 */
import { trtllmAdapter } from './trtllm.js';
import type { EngineAdapter } from './adapter.js';

export const simAdapter: EngineAdapter = {
  ...trtllmAdapter,
  kind: 'sim',
  simulated: () => true,
  timeScale: (e) => (e.version.time_scale && e.version.time_scale > 0 ? e.version.time_scale : 1),
};
