/** @kvbench/probe public API: run the GPU probe, parse its output, build simulator profiles, check a link. */
export {
  ProbeRaw,
  ProbeCopy,
  ProbeBlockCopy,
  ProbeBidirectional,
  ProbeCompute,
  ProbeDecodePoint,
  ProbeEnvironment,
  ProbeGpu,
  ProbeCachedPrefill,
  ProbeCachedPoint,
  ProbeOffloadVsRecompute,
  ProbeOffloadRow,
  parseProbeRaw,
  parseProbeRawText,
} from './raw.js';
export { buildProfile, fitDecode, profileJson, type BuildProfileOptions, type BuiltProfile, type CachedPrefillSource, type DecodeFit } from './profile-builder.js';
export { runProbe, PROBE_SCRIPT, PROBE_EXIT, type RunProbeOptions, type RunProbeResult } from './run.js';
export { linkCheck, summarizeLinkCheck, LinkCheckResult, LinkCheckStatus, type LinkCheckOptions } from './link-check.js';
