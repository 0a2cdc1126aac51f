import { AgentInfo } from '@kvbench/common';
import { AGENTS_BUCKET } from '@kvbench/bus';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { busCall } from '../bus-call.js';

/**
 * Host agents whose heartbeat is recent. The bucket's TTL removes silent agents; the age check
 * covers the moments before the server expires an entry. The keys come from the bucket's stream
 * info (one request) rather than `kv.keys()`, whose ordered consumer was seen to hang here while
 * heartbeats kept writing to the bucket.
 */
export async function liveAgents(jsm: JetStreamManager, agents: KV, now: Date): Promise<(AgentInfo & { age_s: number })[]> {
  return busCall('agents bucket', async () => {
    const prefix = `$KV.${AGENTS_BUCKET}.`;
    const info = await jsm.streams.info(`KV_${AGENTS_BUCKET}`, { subjects_filter: `${prefix}>` });
    const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
    const out: (AgentInfo & { age_s: number })[] = [];
    for (const key of keys) {
      const entry = await agents.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      let value: unknown;
      try {
        value = entry.json();
      } catch {
        continue;
      }
      const parsed = AgentInfo.safeParse(value);
      if (!parsed.success) continue;
      const age_s = Math.max(0, (now.getTime() - Date.parse(parsed.data.last_seen)) / 1000);
      if (age_s * 1000 > Math.max(3 * parsed.data.heartbeat_ms, 5_000)) continue;
      out.push({ ...parsed.data, age_s: Math.round(age_s * 10) / 10 });
    }
    out.sort((a, b) => a.system_label.localeCompare(b.system_label) || a.agent_id.localeCompare(b.agent_id));
    return out;
  });
}
