import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { fromWireValue, type MetricsBatchV1 } from '@arcwatch/contracts';
import { MetricsRegistry, systemClock } from '@arcwatch/runtime';
import { eventually } from '@arcwatch/testing';
import pino from 'pino';
import { parseScrapeConfig } from '../config/scrape-config.loader';
import type { BatchPublisher } from '../ingest/batch.publisher';
import { CollectorMetrics } from '../metrics';
import { fetchExposition } from './scrape.client';
import { ScrapeManager } from './scrape.manager';

/**
 * The scrape client against local HTTP and HTTPS targets: a CA, a server certificate for the
 * name `target.test` and a client certificate are made with openssl for this file. Each server
 * answers only what a correctly configured scrape may see.
 */
const BODY = '# TYPE up_total counter\nup_total 1\n';
let dir: string;
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCertificates(): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=arcwatch-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:target.test\n');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=target.test',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=scraper',
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    'client.pem',
  );
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

describe('scrape client: TLS, credentials, body size', () => {
  let https: Server;
  let httpsPort: number;
  let plain: Server;
  let plainPort: number;
  const seenAuth: Array<string | undefined> = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'arcwatch-scrape-tls-'));
    makeCertificates();
    https = createHttpsServer(
      {
        key: readFileSync(file('server.key')),
        cert: readFileSync(file('server.pem')),
        ca: readFileSync(file('ca.pem')),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        if (!(req.socket as TLSSocket).authorized)
          res.writeHead(401).end(`no client certificate: ${peer?.subject?.CN ?? 'none'}`);
        else
          res
            .writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' })
            .end(`${BODY}# client ${peer.subject.CN}\n`);
      },
    );
    httpsPort = await listen(https);
    plain = createHttpServer((req, res) => {
      seenAuth.push(req.headers.authorization);
      if (req.url === '/big') {
        res
          .writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' })
          .end(gzipSync(Buffer.alloc(4096, 'x')));
        return;
      }
      if (req.url === '/moved') {
        res.writeHead(302, { Location: '/bearer' }).end();
        return;
      }
      const want =
        req.url === '/bearer'
          ? 'Bearer s3cret'
          : req.url === '/custom'
            ? 'Token t0k'
            : `Basic ${Buffer.from('scraper:pw from file').toString('base64')}`;
      if (req.headers.authorization !== want) res.writeHead(401).end();
      else res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(BODY);
    });
    plainPort = await listen(plain);
    writeFileSync(file('token'), 's3cret\n');
    writeFileSync(file('password'), 'pw from file\n');
  });

  afterAll(async () => {
    await close(https);
    await close(plain);
    rmSync(dir, { recursive: true, force: true });
  });

  const httpsUrl = () => `https://127.0.0.1:${httpsPort}/metrics`;

  it('verifies the target against ca_file and server_name, and presents the client certificate', async () => {
    const tls = {
      ca: { file: file('ca.pem') },
      cert: { file: file('client.pem') },
      key: { file: file('client.key') },
      serverName: 'target.test',
      insecureSkipVerify: false,
    };
    const got = await fetchExposition(httpsUrl(), 5000, { http: { tls } });
    expect(got.body).toBe(`${BODY}# client scraper\n`);
  });

  it('refuses a target whose certificate the CA did not sign or whose name does not match', async () => {
    await expect(
      fetchExposition(httpsUrl(), 5000, { http: { tls: { serverName: 'target.test', insecureSkipVerify: false } } }),
    ).rejects.toThrow(/self.signed|unable to verify|local issuer/i);
    const wrongName = { ca: { file: file('ca.pem') }, serverName: 'other.test', insecureSkipVerify: false };
    await expect(fetchExposition(httpsUrl(), 5000, { http: { tls: wrongName } })).rejects.toThrow(
      /other\.test|altnames/i,
    );
  });

  it('insecure_skip_verify reaches the target without the CA; without a client certificate the target says no', async () => {
    await expect(fetchExposition(httpsUrl(), 5000, { http: { tls: { insecureSkipVerify: true } } })).rejects.toThrow(
      'server returned HTTP status 401',
    );
    const got = await fetchExposition(httpsUrl(), 5000, {
      http: {
        tls: { insecureSkipVerify: true, cert: { file: file('client.pem') }, key: { file: file('client.key') } },
      },
    });
    expect(got.body).toContain('# client scraper');
  });

  it('sends authorization from credentials_file, a custom type, and basic_auth with password_file', async () => {
    const base = `http://127.0.0.1:${plainPort}`;
    expect(
      (
        await fetchExposition(`${base}/bearer`, 5000, {
          http: { authorization: { type: 'Bearer', credentialsFile: file('token') } },
        })
      ).body,
    ).toBe(BODY);
    expect(
      (
        await fetchExposition(`${base}/custom`, 5000, {
          http: { authorization: { type: 'Token', credentials: 't0k' } },
        })
      ).body,
    ).toBe(BODY);
    expect(
      (
        await fetchExposition(`${base}/basic`, 5000, {
          http: { basicAuth: { username: 'scraper', passwordFile: file('password') } },
        })
      ).body,
    ).toBe(BODY);
    await expect(
      fetchExposition(`${base}/basic`, 5000, { http: { basicAuth: { username: 'scraper', password: 'wrong' } } }),
    ).rejects.toThrow('HTTP status 401');
    // a redirect keeps the credentials (same host)
    expect(
      (
        await fetchExposition(`${base}/moved`, 5000, {
          http: { authorization: { type: 'Bearer', credentials: 's3cret' } },
        })
      ).body,
    ).toBe(BODY);
  });

  it('body_size_limit counts the uncompressed body', async () => {
    const url = `http://127.0.0.1:${plainPort}/big`;
    expect((await fetchExposition(url, 5000, { bodySizeLimit: 4096 })).body).toHaveLength(4096);
    await expect(fetchExposition(url, 5000, { bodySizeLimit: 4095 })).rejects.toThrow('body size limit exceeded');
  });
});

describe('target_limit', () => {
  it('fails every scrape of a job with more targets than its limit (up=0, no request sent), the other job is scraped', async () => {
    let requests = 0;
    const server = createHttpServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(BODY);
    });
    const port = await listen(server);
    const published: MetricsBatchV1[] = [];
    const publisher = {
      publish: async (b: MetricsBatchV1) => (published.push(b), { duplicate: false }),
    } as unknown as BatchPublisher;
    const settings = parseScrapeConfig(
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        `  - { job_name: over, target_limit: 2, static_configs: [{ targets: ["127.0.0.1:${port}", "localhost:${port}", "[::1]:${port}"] }] }`,
        `  - { job_name: fits, target_limit: 1, static_configs: [{ targets: ["127.0.0.1:${port}"] }] }`,
      ].join('\n'),
      't.yml',
    );
    const manager = new ScrapeManager(
      settings,
      systemClock,
      pino({ level: 'silent' }),
      publisher,
      new CollectorMetrics(new MetricsRegistry('test')),
    );
    manager.onApplicationBootstrap();
    try {
      const up = (job: string) =>
        published.filter((b) => b.target.job === job).map((b) => b.series.find((s) => s.labels.__name__ === 'up')!);
      await eventually(
        async () =>
          new Set(published.filter((b) => b.target.job === 'over').map((b) => b.target.instance)).size === 3 &&
          up('fits').length > 0
            ? true
            : undefined,
        10_000,
        'a scrape of every target',
      );
      expect(up('over').map((s) => fromWireValue(s.samples[0]![1]))).toEqual(up('over').map(() => 0));
      expect(up('fits').map((s) => fromWireValue(s.samples[0]![1]))).toEqual(up('fits').map(() => 1));
      // only the job within its limit asked the server anything
      expect(requests).toBe(up('fits').length);
      expect(
        manager
          .targets()
          .filter((t) => t.target.jobName === 'over')
          .map((t) => t.lastReport?.error),
      ).toEqual(Array(3).fill('target_limit exceeded (number of targets: 3, limit: 2)'));
    } finally {
      await manager.onModuleDestroy();
      await close(server);
    }
  });
});
