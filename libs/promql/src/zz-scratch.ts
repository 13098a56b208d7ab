import { parser } from '@prometheus-io/lezer-promql';
for (const q of process.argv.slice(2)) {
  const tree = parser.parse(q);
  const out: string[] = [];
  tree.iterate({ enter: (n) => { out.push(`${'  '.repeat(depth(n.node))}${n.type.name}${n.type.isError ? '!!' : ''} [${n.from},${n.to}] ${JSON.stringify(q.slice(n.from, n.to))}`); } });
  console.log(out.join('\n'));
}
function depth(n: { parent: unknown }): number { let d = 0; let p = n.parent as { parent: unknown } | null; while (p) { d++; p = p.parent as { parent: unknown } | null; } return d; }
