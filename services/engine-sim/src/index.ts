/** @kvbench/engine-sim public API. */
import { fileURLToPath } from 'node:url';

export * from './profile.js';
export * from './shapes.js';
export { bandwidthAt, blockTable, blockTransferSeconds, iterationTransferSeconds, type Direction } from './link.js';
export { TimingModel, fitPrefill, prefillFitFor, type PrefillFit, type CachedPrefillTiming } from './timing.js';
export { CachedPrefillGrid } from './cached-prefill.js';
export { BlockManager, DEFAULT_PRIORITY, type Block, type KvCacheEvent, type BlockCounters } from './blocks.js';
export { chainHashes, blockHash } from './hash.js';
export { Engine, type EngineOptions, type EngineRequest, type IterationResult, type RequestOutcome, type Emission } from './engine.js';
export { parseSimYaml, loadSimYaml, resolveSim, SimYaml, KvCacheConfigYaml, TRTLLM_DEFAULTS, type SimOptions, type ResolvedSim } from './config.js';
export { parseSimArgs, loadSimEnv, SimEnv } from './cli-args.js';
export { startSimServer, SIM_VERSION, ARRIVAL_HEADER, type SimServer, type StartSimServerOptions } from './server.js';
export { Cl100kTokenizer } from './tokenizer.js';

/** Absolute path of the compiled simulator entry point (dist/src/main.js), for spawning it. */
export const SIM_MAIN_PATH: string = fileURLToPath(new URL('./main.js', import.meta.url));
export { VirtualDriver, type AdvanceResult } from './virtual-driver.js';
