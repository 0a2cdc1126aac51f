/**
 * Examples of the telemetry documents, shown by Swagger UI (`.meta({ examples })` in telemetry.ts):
 * a small simulated PCIe run, as the simulator's source reports it (KV bytes on the PCIe series,
 * no utilisation, clock or memory model).
 */

const SIM_NONE = 'simulated: the simulator models only the link bytes of KV onboards and offloads';
const SIM_ONE_LINK = 'simulated: the model puts every KV transfer on one link, reported as the PCIe series (pcie_*) whatever the profile';

export const EXAMPLE_TELEMETRY_POINT = {
  gpu: 0,
  t_s: 1.2,
  dt_s: 0.1,
  pcie_tx_bytes: 268_435_456,
  pcie_rx_bytes: 134_217_728,
  c2c_tx_bytes: null,
  c2c_rx_bytes: null,
  util_pct: null,
  sm_clock_mhz: null,
  power_w: 412.5,
  energy_j: 41.25,
  mem_used_bytes: null,
};

export const EXAMPLE_TELEMETRY_SUMMARY = {
  source: 'sim',
  source_detail: "simulated: engine-sim's modelled link bytes per iteration (http://127.0.0.1:8000/sim/link_series), in periods of 100 ms of modelled time",
  tried: [],
  simulated: true,
  gpus: [{ index: 0, name: 'simulated', uuid: null }],
  period_ms_requested: 100,
  period_ms_achieved: 100,
  points: 40,
  window_s: 4,
  totals: { pcie_tx_bytes: 3_221_225_472, pcie_rx_bytes: 1_610_612_736, c2c_tx_bytes: null, c2c_rx_bytes: null, energy_j: 1650 },
  link_level: {
    link: 'pcie',
    offload_bytes: 3_221_225_472,
    onboard_bytes: 1_610_612_736,
    offload_gbps: 21.5,
    onboard_gbps: 20.1,
    peak_offload_gbps: 24.2,
    peak_onboard_gbps: 23.8,
    payload: null,
  },
  versus_engine: {
    engine_offloaded_bytes: 3_221_225_472,
    engine_onboarded_bytes: 1_610_612_736,
    basis: 'counted',
    offload_ratio: 1,
    onboard_ratio: 1,
    tolerance: 0.1,
    disagreements: [],
  },
  energy_per_request_j: 275,
  energy_per_output_token_j: 17.19,
  peak_mem_used_bytes: null,
  mean_power_w: 412.5,
  null_reasons: {
    c2c_tx_bytes: SIM_ONE_LINK,
    c2c_rx_bytes: SIM_ONE_LINK,
    'link_level.payload': "the simulator's series counts the KV payload only: no TLP framing to take off",
    util_pct: SIM_NONE,
    sm_clock_mhz: SIM_NONE,
    mem_used_bytes: SIM_NONE,
    peak_mem_used_bytes: SIM_NONE,
  },
};
