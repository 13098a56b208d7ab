// The module boundaries, derived from the folders rather than from a list: every package under
// libs/, services/ and tools/ is a project. A service imports libs only (never another service,
// never a tool); a lib imports libs only; a tool imports libs only; nothing reaches into another
// project by relative path. e2e/ and bench/ drive services and may import them. A project created
// later is covered without touching this file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KINDS = ['libs', 'services', 'tools'];

function packages() {
  const byName = new Map();
  for (const kind of KINDS) {
    const dir = path.join(ROOT, kind);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const pj = path.join(dir, name, 'package.json');
      if (!existsSync(pj)) continue;
      byName.set(JSON.parse(readFileSync(pj, 'utf8')).name, { kind, name });
    }
  }
  return byName;
}

function projectOf(file) {
  const parts = path.relative(ROOT, file).split(path.sep);
  if (KINDS.includes(parts[0]) && parts.length > 2) return { kind: parts[0], name: parts[1] };
  return { kind: parts[0], name: '' };
}

const ALLOWED = { services: ['libs'], libs: ['libs'], tools: ['libs'] };

export const boundaries = {
  meta: {
    type: 'problem',
    messages: {
      relative: '{{from}} reaches into {{to}} by relative path: import it by its package name',
      forbidden: '{{fromKind}} may import libs only: {{from}} imports {{to}}',
    },
    schema: [],
  },
  create(context) {
    const from = projectOf(context.filename);
    if (!ALLOWED[from.kind]) return {};
    const byName = packages();
    const fromLabel = `${from.kind}/${from.name}`;
    function check(node, source) {
      if (typeof source !== 'string') return;
      let target;
      if (source.startsWith('.')) {
        target = projectOf(path.resolve(path.dirname(context.filename), source));
        if (target.kind === from.kind && target.name === from.name) return;
        context.report({
          node,
          messageId: 'relative',
          data: { from: fromLabel, to: `${target.kind}/${target.name}`.replace(/\/$/, '') },
        });
        return;
      }
      const pkg = source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0];
      target = byName.get(pkg);
      if (!target) return; // a third-party package
      if (target.kind === from.kind && target.name === from.name) return;
      if (!ALLOWED[from.kind].includes(target.kind)) {
        context.report({
          node,
          messageId: 'forbidden',
          data: { fromKind: from.kind, from: fromLabel, to: `${target.kind}/${target.name}` },
        });
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
      CallExpression: (n) =>
        n.callee.type === 'Identifier' &&
        n.callee.name === 'require' &&
        n.arguments[0]?.type === 'Literal' &&
        check(n, n.arguments[0].value),
    };
  },
};
