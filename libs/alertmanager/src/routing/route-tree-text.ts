import { matchersToString, matchesLabels, type LabelSet } from '../matchers/matcher';
import { matchRoutes, type Route } from './route';

/**
 * amtool's text views of the routing tree (`config routes show`, `config routes test --tree`),
 * character for character: the tree drawing uses "├── ", "└── ", and "│" followed by two
 * no-break spaces and a space for a continuing branch, as amtool's tree printer does.
 */
interface TreeNode {
  value: string;
  children: TreeNode[];
}

function slug(r: Route, showContinue: boolean, showReceiver: boolean): string {
  let s = r.matchers.length === 0 ? 'default-route' : matchersToString(r.matchers);
  if (r.continue && showContinue) s += '  continue: true';
  if (showReceiver) s += `  receiver: ${r.opts.receiver}`;
  return s;
}

function render(children: TreeNode[]): string {
  const lines: string[] = ['.'];
  const walk = (nodes: TreeNode[], prefix: string): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${prefix}${last ? '└──' : '├──'} ${n.value}`);
      walk(n.children, prefix + (last ? '    ' : '│\u00a0\u00a0 '));
    });
  };
  walk(children, '');
  return `${lines.join('\n')}\n`;
}

/** The lines `amtool config routes show` prints (without the trailing newline of the last). */
export function routesShowText(root: Route): string {
  const toNode = (r: Route): TreeNode => ({ value: slug(r, true, true), children: r.routes.map(toNode) });
  return `Routing tree:\n${render([toNode(root)])}`;
}

/** The "Matching routes:" tree of `amtool config routes test --tree`. */
export function matchingTreeText(root: Route, labels: LabelSet): string {
  const toNode = (r: Route): TreeNode => {
    const node: TreeNode = { value: slug(r, false, false), children: [] };
    for (const child of r.routes) {
      if (matchesLabels(child.matchers, labels)) {
        node.children.push(toNode(child));
        if (!child.continue) break;
      }
    }
    if (node.children.length === 0) node.value = slug(r, false, true);
    return node;
  };
  return `Matching routes:\n${render([toNode(root)])}\n`;
}

/** The receivers line of `amtool config routes test`. */
export function receiversLine(root: Route, labels: LabelSet): string {
  return matchRoutes(root, labels)
    .map((r) => r.opts.receiver)
    .join(',');
}
