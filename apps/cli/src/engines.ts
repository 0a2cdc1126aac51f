/**
 * What the CLI hands the runner about engines it cannot know itself (the runner is a library and
 * imports no service): how to start the simulator, and the KV bytes per token of known models
 * (SGLang counts offload traffic in tokens).
 */
import type { AgentOptions } from '@kvbench/runner';
import { SIM_MAIN_PATH, defaultProfileForSystem, kvBytesPerToken, resolveModelShape } from '@kvbench/engine-sim';

export const engineAgentOptions: Pick<AgentOptions, 'simulator' | 'modelKvBytesPerToken'> = {
  simulator: { mainPath: SIM_MAIN_PATH, defaultProfileForSystem },
  modelKvBytesPerToken: (model) => kvBytesPerToken(resolveModelShape(model)),
};
