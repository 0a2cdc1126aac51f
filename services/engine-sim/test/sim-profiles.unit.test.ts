import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES_DIR, listProfiles, loadProfile } from '../src/index.js';

test('the simulator lists and loads every committed profile', () => {
  const names = listProfiles();
  assert.ok(names.includes('h100-pcie-gen5'), `h100-pcie-gen5 in ${names.join(', ')}`);
  for (const name of names) {
    const p = loadProfile(name);
    assert.equal(p.name, name, `${name}.json names itself`);
    assert.ok(p.sources.length >= 1);
    const raw = p.measured?.['raw'];
    if (typeof raw === 'string') assert.ok(existsSync(join(PROFILES_DIR, '..', raw)), `${name}: ${raw} is committed`);
  }
});
