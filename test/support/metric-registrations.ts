import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

export type MetricType = "counter" | "gauge" | "histogram" | "summary";

/** One metric a process registers, as its source says. */
export interface MetricRegistration {
  readonly name: string;
  readonly type: MetricType;
  /** Label names, sorted. */
  readonly labels: readonly string[];
  /** Repository-relative path of the file that constructs it. */
  readonly file: string;
  /** Line of the constructor, or of the helper call that names the metric. */
  readonly line: number;
}

/** A process's registry: `createMetricsRegistry(service, { ...constant labels })`. */
export interface ProcessRegistry {
  readonly service: string;
  /** The constant labels besides `service`, sorted. */
  readonly labels: readonly string[];
  readonly file: string;
  readonly line: number;
}

export interface SourceScan {
  readonly metrics: readonly MetricRegistration[];
  readonly registries: readonly ProcessRegistry[];
  /** Files that call `collectDefaultMetrics` (prom-client's process and Node.js metrics). */
  readonly defaults: readonly string[];
  /** Constructs the scan could not read: each names its file and line. A metric behind one would go unchecked. */
  readonly problems: readonly string[];
}

const CONSTRUCTORS: Readonly<Record<string, MetricType>> = {
  Counter: "counter",
  Gauge: "gauge",
  Histogram: "histogram",
  Summary: "summary",
};

/** Every `.ts` file under `dir` (recursively), repository-relative, skipping generated code. */
function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.split("/").includes("gen"))
    .map((f) => join(dir, f))
    .sort();
}

/**
 * Reads every prom-client metric constructor (`new Counter({...})`, `new Gauge`, `new
 * Histogram`, `new Summary`) in the source folders `dirs` of `root`, with the TypeScript
 * parser, not a regular expression: a name is a string literal, or a parameter of the helper
 * around the constructor (`perAccount("tp_risk_open_orders", ...)`), resolved through every
 * call of that helper in the same file. Whatever it cannot read is a problem, never skipped.
 */
export function scanMetricSources(root: string, dirs: readonly string[]): SourceScan {
  const metrics: MetricRegistration[] = [];
  const registries: ProcessRegistry[] = [];
  const defaults: string[] = [];
  const problems: string[] = [];
  for (const dir of dirs)
    for (const file of sourceFiles(root, dir)) {
      const text = readFileSync(join(root, file), "utf8");
      if (!text.includes("prom-client") && !text.includes("createMetricsRegistry(")) continue;
      const scan = scanFile(file, text);
      metrics.push(...scan.metrics);
      registries.push(...scan.registries);
      defaults.push(...scan.defaults);
      problems.push(...scan.problems);
    }
  return { metrics, registries, defaults, problems };
}

/** The scan of one file's text; exported for the scanner's own tests. */
export function scanFile(file: string, text: string): SourceScan {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const at = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const where = (node: ts.Node) => `${file}:${at(node)}`;
  const metrics: MetricRegistration[] = [];
  const registries: ProcessRegistry[] = [];
  const defaults = new Set<string>();
  const problems: string[] = [];

  // What this file calls prom-client's classes: named imports (maybe renamed) and namespaces.
  const classes = new Map<string, MetricType>();
  const namespaces = new Set<string>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (statement.moduleSpecifier.text !== "prom-client") continue;
    const clause = statement.importClause;
    if (clause?.name !== undefined) namespaces.add(clause.name.text);
    const bindings = clause?.namedBindings;
    if (bindings !== undefined && ts.isNamespaceImport(bindings)) namespaces.add(bindings.name.text);
    if (bindings !== undefined && ts.isNamedImports(bindings))
      for (const element of bindings.elements) {
        const type = CONSTRUCTORS[(element.propertyName ?? element.name).text];
        if (type !== undefined) classes.set(element.name.text, type);
      }
  }

  const metricType = (callee: ts.Expression): MetricType | undefined => {
    if (ts.isIdentifier(callee)) return classes.get(callee.text);
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression))
      return namespaces.has(callee.expression.text) ? CONSTRUCTORS[callee.name.text] : undefined;
    return undefined;
  };

  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node)) {
      const type = metricType(node.expression);
      if (type !== undefined) readMetric(node, type);
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee)
        ? callee.text
        : ts.isPropertyAccessExpression(callee)
          ? callee.name.text
          : "";
      if (name === "createMetricsRegistry") readRegistry(node);
      if (name === "collectDefaultMetrics") defaults.add(file);
      if (name === "registerMetric")
        problems.push(`${where(node)}: registerMetric() adds a metric this scan cannot name`);
    }
    ts.forEachChild(node, visit);
  };

  const readMetric = (node: ts.NewExpression, type: MetricType): void => {
    const options = node.arguments?.[0];
    if (options === undefined || !ts.isObjectLiteralExpression(options)) {
      problems.push(`${where(node)}: a ${type} whose options are not an object literal`);
      return;
    }
    const labels = labelNamesOf(options);
    if (labels === undefined) {
      problems.push(`${where(node)}: a ${type} whose labelNames are not an array of string literals`);
      return;
    }
    for (const named of namesOf(options, node)) {
      if (typeof named === "string") problems.push(`${where(node)}: a ${type} ${named}`);
      else metrics.push({ name: named.name, type, labels, file, line: named.line });
    }
  };

  const readRegistry = (call: ts.CallExpression): void => {
    const [service, constant] = call.arguments;
    const labels = constant === undefined ? [] : keysOf(constant);
    if (service === undefined || !isText(service) || labels === undefined) {
      problems.push(`${where(call)}: createMetricsRegistry() without a literal service name and label object`);
      return;
    }
    registries.push({ service: service.text, labels, file, line: at(call) });
  };

  /** The metric names the `name` option stands for: a literal, or a helper's parameter at each call. */
  const namesOf = (options: ts.ObjectLiteralExpression, node: ts.Node): ({ name: string; line: number } | string)[] => {
    const property = options.properties.find((p) => p.name !== undefined && propertyName(p.name) === "name");
    if (property === undefined) return ["without a name"];
    const value = ts.isPropertyAssignment(property)
      ? property.initializer
      : ts.isShorthandPropertyAssignment(property)
        ? property.name
        : undefined;
    if (value !== undefined && isText(value)) return [{ name: value.text, line: at(node) }];
    if (value === undefined || !ts.isIdentifier(value)) return ["whose name is neither a literal nor a parameter"];
    const helper = enclosingHelper(node, value.text);
    if (helper === undefined) return [`whose name ${value.text} is not a parameter of a named helper`];
    const calls = callsOf(source, helper.name);
    if (calls.length === 0) return [`whose helper ${helper.name}() is never called in this file`];
    return calls.map((call) => {
      const argument = call.arguments[helper.index];
      return argument !== undefined && isText(argument)
        ? { name: argument.text, line: at(call) }
        : `named by ${helper.name}() at line ${at(call)} with an argument that is not a literal`;
    });
  };

  visit(source);
  return { metrics, registries, defaults: [...defaults], problems };
}

function isText(node: ts.Node): node is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node);
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/** `labelNames: ["a", "b"]` sorted; [] without the option; undefined when not literal. */
function labelNamesOf(options: ts.ObjectLiteralExpression): string[] | undefined {
  const property = options.properties.find((p) => p.name !== undefined && propertyName(p.name) === "labelNames");
  if (property === undefined) return [];
  if (!ts.isPropertyAssignment(property) || !ts.isArrayLiteralExpression(property.initializer)) return undefined;
  const names = property.initializer.elements.map((e) => (isText(e) ? e.text : undefined));
  return names.every((n) => n !== undefined) ? names.sort() : undefined;
}

/** The keys of an object literal (`{ venue: config.venue }`), sorted; undefined for anything else. */
function keysOf(node: ts.Expression): string[] | undefined {
  if (!ts.isObjectLiteralExpression(node)) return undefined;
  const keys = node.properties.map((p) => (p.name === undefined ? undefined : propertyName(p.name)));
  return keys.every((k) => k !== undefined) ? keys.sort() : undefined;
}

/** The innermost function around `node` that takes `parameter`, with the name it is called by. */
function enclosingHelper(node: ts.Node, parameter: string): { name: string; index: number } | undefined {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) {
    if (!ts.isFunctionLike(n)) continue;
    const index = n.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === parameter);
    if (index < 0) continue;
    if (ts.isFunctionDeclaration(n) && n.name !== undefined) return { name: n.name.text, index };
    const holder = n.parent;
    if (holder !== undefined && ts.isVariableDeclaration(holder) && ts.isIdentifier(holder.name))
      return { name: holder.name.text, index };
    return undefined;
  }
  return undefined;
}

function callsOf(source: ts.SourceFile, name: string): ts.CallExpression[] {
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name)
      calls.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}
