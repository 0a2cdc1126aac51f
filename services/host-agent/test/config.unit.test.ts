// The agent's telemetry settings from its environment: defaults, each variable passed through, and a bad value named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentConfigFromEnv } from '@kvbench/host-agent';

const base = { SYSTEM_LABEL: 'pcie', NATS_URL: 'nats://127.0.0.1:4222' };

test('telemetry defaults: on, 100 ms, no DCGM exporter, this host\'s sysfs for the PCI config spaces', () => {
  const c = agentConfigFromEnv(base);
  assert.deepEqual(c.telemetry, { enabled: true, periodMs: 100, dcgmUrl: null });
});

test('PCI_DEVICES_DIR (where the systemd unit copies the config spaces) reaches the sampler', () => {
  const c = agentConfigFromEnv({ ...base, PCI_DEVICES_DIR: '/var/lib/kvbench-agent-pcie/pci', TELEMETRY_PERIOD_MS: '50', DCGM_EXPORTER_URL: 'http://127.0.0.1:9400/metrics' });
  assert.deepEqual(c.telemetry, { enabled: true, periodMs: 50, dcgmUrl: 'http://127.0.0.1:9400/metrics', pciDevicesDir: '/var/lib/kvbench-agent-pcie/pci' });
  assert.throws(() => agentConfigFromEnv({ ...base, TELEMETRY_PERIOD_MS: '5' }), /TELEMETRY_PERIOD_MS/);
});
