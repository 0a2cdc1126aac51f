/**
 * What the GPU's PCIe byte counters count, and the KV payload inside it.
 *
 * NVML's PCIe counters and DCGM's DCGM_FI_PROF_PCIE_TX/RX_BYTES count whole transaction-layer
 * packets: "including both protocol headers and data payloads" (DCGM field reference). Every TLP
 * carries at most Max_Payload_Size data bytes (MPS, in the PCI Express capability's Device Control
 * register) plus a fixed frame (PCIe Base Specification): a 4-byte STP token holding the sequence
 * number on 128b/130b links (on 8b/10b links STP, sequence number and END are 4 bytes too) and a
 * 4-byte LCRC, around a 12-byte (3-DW) or 16-byte (4-DW) header. So a copy of N bytes counts
 * N × (MPS + frame + header) / MPS:
 *
 * - host → device (onboard): the GPU's copy engine reads host memory; the data arrives on the GPU's
 *   RX as completions with data, 3-DW header: 20 bytes per TLP; the read requests leave on
 *   its TX as 4-DW memory reads with no payload: 24 bytes each.
 * - device → host (offload): the GPU writes host memory with 64-bit-address memory writes, 4-DW
 *   header: 24 bytes per TLP, on its TX.
 *
 * The H200 capture (capture/h200-pcie-2026-12-07) checks this model against copies of known size in
 * both directions, including the read requests seen on TX during host → device copies.
 * Assumptions, each stated where the estimate is reported: no ECRC (it would add 4 bytes a TLP),
 * full-size TLPs (a copy engine streams large aligned blocks), one read request per completion
 * (observed: the capture's TX during host → device copies is 24 bytes per 256-byte completion).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The frame around each TLP: STP token (with sequence number) 4 B + LCRC 4 B. */
const FRAME_BYTES = 8;
/** Completion with data, 3-DW header. */
export const COMPLETION_TLP_OVERHEAD = 12 + FRAME_BYTES;
/** Memory write or read request with a 64-bit address, 4-DW header. */
export const REQUEST_TLP_OVERHEAD = 16 + FRAME_BYTES;

export interface PcieFraming {
  /** The PCI address the config was read from (sysfs form, 0000:00:06.0). */
  bus_id: string;
  /** Max_Payload_Size in effect (Device Control bits 7:5). */
  max_payload_bytes: number;
  /** Max_Read_Request_Size in effect (Device Control bits 14:12). */
  max_read_request_bytes: number;
  /** Max_Payload_Size the device supports (Device Capabilities bits 2:0). */
  max_payload_supported_bytes: number;
  /** Where it was read. */
  source: string;
}

export type FramingReading = { ok: true; framing: PcieFraming } | { ok: false; reason: string };

const PCIE_CAPABILITY_ID = 0x10;

/**
 * The PCI Express capability's Device Control and Capabilities from a config-space dump (sysfs
 * `config`, which gives unprivileged readers only the first 64 bytes: the capability list lies beyond).
 */
export function parsePcieConfig(config: Uint8Array, busId: string, source: string): FramingReading {
  if (config.length < 0x40) return { ok: false, reason: `config space of ${busId}: ${config.length} bytes, not even the header` };
  const view = new DataView(config.buffer, config.byteOffset, config.byteLength);
  const status = view.getUint16(0x06, true);
  if (!(status & 0x10)) return { ok: false, reason: `${busId} has no capability list` };
  let at = view.getUint8(0x34) & 0xfc;
  for (let hops = 0; at >= 0x40 && hops < 48; hops++) {
    if (at + 0x0c > config.length)
      return { ok: false, reason: `config space of ${busId}: ${config.length} bytes readable, its capabilities lie beyond (reading all of it needs root)` };
    if (view.getUint8(at) === PCIE_CAPABILITY_ID) {
      const devCap = view.getUint32(at + 0x04, true);
      const devCtl = view.getUint16(at + 0x08, true);
      return {
        ok: true,
        framing: {
          bus_id: busId,
          max_payload_bytes: 128 << ((devCtl >> 5) & 0x7),
          max_read_request_bytes: 128 << ((devCtl >> 12) & 0x7),
          max_payload_supported_bytes: 128 << (devCap & 0x7),
          source,
        },
      };
    }
    at = view.getUint8(at + 1) & 0xfc;
  }
  return { ok: false, reason: `${busId} has no PCI Express capability (not a PCIe device)` };
}

/** NVML's and DCGM's bus id (00000000:00:06.0, upper case) as sysfs names it (0000:00:06.0). */
export function sysfsBusId(busId: string): string {
  const m = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(busId.trim());
  if (!m) return busId;
  const domain = (m[1] ?? '0000').slice(-4);
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

/** Reads a GPU's framing from `<devicesDir>/<bus id>/config` (default: this host's sysfs). */
export async function readPcieFraming(busId: string, devicesDir = '/sys/bus/pci/devices'): Promise<FramingReading> {
  const id = sysfsBusId(busId);
  const path = join(devicesDir, id, 'config');
  let config: Buffer;
  try {
    config = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `no PCI device ${id} on this host (${path})` : `${path}: ${(err as Error).message}` };
  }
  return parsePcieConfig(config, id, path);
}

/**
 * The payload inside what one GPU's counters counted, by the model above: received bytes are
 * completions (host → device data); sent bytes are memory writes (device → host data) plus one
 * header-only read request per completion received.
 */
export function payloadFromCounted(txBytes: number, rxBytes: number, mps: number): { offload_bytes: number; onboard_bytes: number } {
  const onboard = (rxBytes * mps) / (mps + COMPLETION_TLP_OVERHEAD);
  const readRequests = (onboard / mps) * REQUEST_TLP_OVERHEAD;
  const offload = (Math.max(0, txBytes - readRequests) * mps) / (mps + REQUEST_TLP_OVERHEAD);
  return { offload_bytes: offload, onboard_bytes: onboard };
}

/** The model's assumptions in words, recorded beside every estimate. */
export const PAYLOAD_MODEL =
  'counted × MPS / (MPS + frame): received = completions (12 B header + 8 B frame), sent = 64-bit writes (16 + 8 B) ' +
  'less one 24 B read request per completion received; assumes full-size TLPs and no ECRC (libs/telemetry/src/pcie-framing.ts)';
