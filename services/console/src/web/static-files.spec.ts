import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveStatic, serveStatic } from './static-files';

describe('serving the built app', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-console-web-'));
  beforeAll(() => {
    fs.mkdirSync(path.join(root, 'assets'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><div id="root"></div>');
    fs.writeFileSync(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
    fs.writeFileSync(path.join(os.tmpdir(), 'aw-secret.js'), 'secret');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('answers client-side routes with the app shell and assets with long caching', async () => {
    expect(resolveStatic(root, '/requests?tenant=acme')).toEqual({ kind: 'app' });
    const shell = await serveStatic(root, '/fleet');
    expect(shell.status).toBe(200);
    expect(String(shell.body)).toContain('id="root"');
    expect(shell.headers['cache-control']).toBe('no-cache');
    expect(shell.headers['content-security-policy']).toContain("script-src 'self'");
    const js = await serveStatic(root, '/assets/index-abc.js');
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.headers['cache-control']).toContain('immutable');
  });

  it('never leaves the root', async () => {
    for (const p of [
      '/../aw-secret.js',
      '/assets/../../aw-secret.js',
      '/%2e%2e/aw-secret.js',
      '/assets/%2e%2e%2f..%2faw-secret.js',
      '/a%00.js',
      '/..%5caw-secret.js',
      '/%E0.js',
    ]) {
      expect(resolveStatic(root, p)).toEqual({ kind: 'not-found' });
      expect((await serveStatic(root, p)).status).toBe(404);
    }
    expect(resolveStatic(root, '/secret.sh')).toEqual({ kind: 'not-found' });
    expect((await serveStatic(root, '/assets/missing.js')).status).toBe(404);
  });

  it('says how to build the app when it is missing', async () => {
    const r = await serveStatic(path.join(root, 'nope'), '/');
    expect(r.status).toBe(503);
    expect(String(r.body)).toContain('vite build');
  });
});
