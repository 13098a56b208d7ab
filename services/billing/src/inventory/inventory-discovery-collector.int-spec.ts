import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  REPO_ROOT,
  TEST_AUTH_ENV,
  createTestDatabase,
  eventually,
  freePort,
  freePortRange,
  startProcess,
  testNamespace,
} from '@arcwatch/testing';
import type { RunningProcess, TestDatabase } from '@arcwatch/testing';
import { createBillingApp } from '../app';
import { AllocationService } from '../allocation/allocation.service';
import { testConfig } from '../testing/billing-test-kit';
import { InventoryDiscoveryService } from './inventory-discovery.service';

/*
 * Discovery against the real collector: the simulated fleet (tools/fleet-sim) serves dcgm-exporter
 * and vLLM pages, the collector scrapes them with the scrape configuration the fleet writes (file_sd
 * target labels `node` and `cluster`), and billing asks the collector's /api/v1/query. Every
 * simulated vLLM instance (the address request records name) must come out on its node with that
 * node's GPUs, as H100s.
 */
const NODES = 2;
const GPUS = 4;

describe('inventory discovery from the real collector scraping the simulated fleet', () => {
  let db: TestDatabase;
  let dir: string;
  let app: NestFastifyApplication | undefined;
  const procs: RunningProcess[] = [];
  let fleetPort = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-billing-fleet-'));
    const namespace = testNamespace();
    const collectorPort = await freePort();
    fleetPort = await freePortRange(NODES * 2);
    const scrapeConfig = path.join(dir, 'collector.yml');
    // prettier-ignore
    const fleet = startProcess('fleet-sim', 'tools/fleet-sim/src/main.ts', [
      '--nodes', String(NODES), '--gpus', String(GPUS), '--base-port', String(fleetPort), '--outage', 'none',
      '--scrape-interval', '1s', '--write-sd', path.join(dir, 'fleet-sd.json'), '--write-scrape-config', scrapeConfig,
    ], {});
    procs.push(fleet);
    await eventually(
      () => (fs.existsSync(scrapeConfig) ? true : undefined),
      60_000,
      `fleet scrape config\n${fleet.log()}`,
    );
    const collector = startProcess('collector', 'services/collector/src/main.ts', [], {
      DATABASE_URL: db.url,
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: namespace,
      COLLECTOR_PORT: String(collectorPort),
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_CONFIG: scrapeConfig,
      ...TEST_AUTH_ENV,
    });
    procs.push(collector);
    const collectorUrl = `http://127.0.0.1:${collectorPort}`;
    await eventually(
      async () => ((await fetch(`${collectorUrl}/readyz`).catch(() => null))?.ok ? true : undefined),
      90_000,
      `collector ready\n${collector.log()}`,
    );

    const config = testConfig(db.url, namespace, {
      BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
      BILLING_COLLECTOR_URL: collectorUrl,
      BILLING_DB_SCHEMA: 'billing_inv',
    });
    app = await createBillingApp({ config, disableWorkerTimer: true });
    await app.init();
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    for (const p of procs.reverse()) await p.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('places each vLLM instance on its node with all the GPUs the node reports', async () => {
    const discovery = app!.get(InventoryDiscoveryService);
    // The collector answers once it has scraped both exporters of every node.
    const pass = await eventually(
      async () => {
        const p = await discovery.discoverOnce();
        return p.observed === NODES ? p : undefined;
      },
      60_000,
      'every simulated instance observed',
    );
    expect(pass.skipped).toEqual([]);
    const inventory = await app!.get(AllocationService).inventory();
    const placed = inventory.instances().map((i) => {
      const p = inventory.placements(i);
      return [i.replace(/:\d+$/, ''), p.length, p[0]?.node, p[0]?.gpus, new Set(p[0]?.gpuUuids).size, p[0]?.gpuModel];
    });
    expect(placed).toEqual(
      Array.from({ length: NODES }, (_, n) => [
        '127.0.0.1',
        1,
        `gpu-node-${String(n + 1).padStart(3, '0')}`,
        GPUS,
        GPUS,
        'H100',
      ]),
    );
    // The instance is the vLLM target address, the name request records carry.
    const ports = inventory.instances().map((i) => Number(i.split(':').at(-1)));
    expect(ports.every((p) => p >= fleetPort && p < fleetPort + NODES * 2)).toBe(true);
    // Asking again finds nothing new.
    expect((await discovery.discoverOnce()).changes).toBe(0);
  });
});
