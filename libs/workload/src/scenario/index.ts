export { segmentTokens, PromptTokens } from './segments.js';
export { arrivalTimesMs, gammaSampler, type ArrivalSpec } from './arrivals.js';
export { ScenarioBuilder } from './builder.js';
export { drawLength, maxLength } from './lengths.js';
export { generateMultiturn, type MultiturnInput } from './multiturn.js';
export { generateDocqa, type DocqaInput } from './docqa.js';
export { importMooncake, type MooncakeImportOptions } from './mooncake.js';
export { generateOffloadPoint, type OffloadPointInput } from './offload.js';
export { serializeScenarioParts, checkScenario } from './document.js';
