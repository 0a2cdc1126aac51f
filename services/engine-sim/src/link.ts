/**
 * Link model: bandwidth by transfer size, interpolated linearly in log(bytes) between the
 * profile's points and held at the end points outside them.
 */
import type { BandwidthTable, LinkProfile } from './profile.js';

export type Direction = 'h2d' | 'd2h';

/** GB/s (1e9 B/s) for one transfer of `bytes` according to `table`. */
export function bandwidthAt(table: BandwidthTable, bytes: number): number {
  const first = table[0]!;
  const last = table[table.length - 1]!;
  if (bytes <= first[0]) return first[1];
  if (bytes >= last[0]) return last[1];
  for (let i = 1; i < table.length; i++) {
    const [s1, b1] = table[i]!;
    if (bytes <= s1) {
      const [s0, b0] = table[i - 1]!;
      const f = (Math.log(bytes) - Math.log(s0)) / (Math.log(s1) - Math.log(s0));
      return b0 + f * (b1 - b0);
    }
  }
  return last[1];
}

/** The table a KV block copy uses: the block-copy table when the profile has one, else single pinned copies. */
export function blockTable(link: LinkProfile, dir: Direction): BandwidthTable {
  return link.block_copy?.[dir] ?? link[dir].pinned;
}

/** Seconds to move `blocks` KV blocks of `blockBytes` each in one direction, copied block by block. */
export function blockTransferSeconds(link: LinkProfile, dir: Direction, blocks: number, blockBytes: number): number {
  if (blocks <= 0) return 0;
  return (blocks * blockBytes) / (bandwidthAt(blockTable(link, dir), blockBytes) * 1e9);
}

/**
 * Seconds for one iteration's onboards (h2d) and offloads (d2h). The two directions use separate
 * copy engines and overlap, limited by the profile's bidirectional total when it has one.
 */
export function iterationTransferSeconds(link: LinkProfile, h2dBlocks: number, d2hBlocks: number, blockBytes: number): number {
  const up = blockTransferSeconds(link, 'h2d', h2dBlocks, blockBytes);
  const down = blockTransferSeconds(link, 'd2h', d2hBlocks, blockBytes);
  const both = link.bidirectional_total_GBps ? ((h2dBlocks + d2hBlocks) * blockBytes) / (link.bidirectional_total_GBps * 1e9) : 0;
  return Math.max(up, down, both);
}
