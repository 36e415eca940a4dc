/**
 * A small reader of Microsoft's OData CSDL (the Graph `$metadata` document, here
 * shared/reference/graph-v1.0-metadata.xml) and a checker of JSON payloads against it.
 *
 * Only what a payload check needs is read: every schema's entity, complex and enum types
 * (properties, navigation properties, BaseType, OpenType, Abstract, IsFlags, members) and the
 * instance-annotation terms (`<Term>`). Actions, functions, entity sets and vocabulary annotations
 * are ignored.
 *
 * The XML is parsed with fast-xml-parser: it is pure JavaScript with no native build step, ships a
 * CommonJS build (jest loads it without transforms), runs on Node 20 and 22, and is already in the
 * dependency tree (through @azure/core-xml), so it adds no new code to the install. A hand-written
 * reader would have to get entities, CDATA, comments and attribute quoting right for a 3.5 MB
 * document that Microsoft regenerates; a maintained parser does that for us.
 *
 * The checker follows the OData JSON format (OData v4.01 "JSON Format" and "CSDL XML"):
 * - a property must be declared on the object's type or a base type; `@odata.type` selects a
 *   derived type; an OpenType allows undeclared (dynamic) properties, which are reported as notes
 *   so the caller can decide which ones it accepts;
 * - navigation properties appear only when expanded (the caller says which ones it expanded);
 * - primitive values have the JSON form of their Edm type, `Nullable="false"` forbids null, a
 *   collection is an array (never null) whose items obey the item type's nullability;
 * - enum values are member names, flags enums a comma-separated list of them;
 * - instance annotations (`@odata.*`, `@microsoft.graph.*`, also `prop@…`) are not properties:
 *   `@odata.*` control information must be a known name, `@microsoft.graph.*` a declared Term.
 */
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

/** One structural or navigation property. */
export interface CsdlProperty {
  name: string;
  /** Qualified type (`Edm.String`, `microsoft.graph.identitySet`), without `Collection(…)`. */
  type: string;
  collection: boolean;
  /** For a collection: whether its items may be null (CSDL `Nullable` on a collection). */
  nullable: boolean;
  navigation: boolean;
}

/** An entity or complex type. */
export interface CsdlStructuredType {
  kind: 'entity' | 'complex';
  /** Qualified name, e.g. `microsoft.graph.user`. */
  name: string;
  baseType?: string;
  open: boolean;
  abstract: boolean;
  properties: Map<string, CsdlProperty>;
}

export interface CsdlEnumType {
  kind: 'enum';
  name: string;
  flags: boolean;
  members: Set<string>;
}

/** An annotation term (`@microsoft.graph.sharedChanged` …). */
export interface CsdlTerm {
  name: string;
  type: string;
  appliesTo: string[];
}

/** The model: every type by qualified name (aliases resolved). */
export class CsdlModel {
  readonly types = new Map<string, CsdlStructuredType | CsdlEnumType>();
  readonly terms = new Map<string, CsdlTerm>();

  /** A structured type by qualified name (case-sensitive, as OData names are). */
  structured(name: string): CsdlStructuredType | undefined {
    const t = this.types.get(name);
    return t && t.kind !== 'enum' ? t : undefined;
  }

  /** The type and its base types, most derived first (throws on a missing base: the file is broken). */
  chain(name: string): CsdlStructuredType[] {
    const out: CsdlStructuredType[] = [];
    let current: string | undefined = name;
    while (current !== undefined) {
      const t = this.structured(current);
      if (!t) throw new Error(`CSDL: type ${current} (in the BaseType chain of ${name}) is not declared`);
      if (out.includes(t)) throw new Error(`CSDL: BaseType cycle at ${current}`);
      out.push(t);
      current = t.baseType;
    }
    return out;
  }

  /** The property `prop` as declared on `typeName` or one of its base types. */
  property(typeName: string, prop: string): { declaredOn: string; property: CsdlProperty } | undefined {
    for (const t of this.chain(typeName)) {
      const p = t.properties.get(prop);
      if (p) return { declaredOn: t.name, property: p };
    }
    return undefined;
  }

  /** Whether `typeName` is `base` or derives from it. */
  derivesFrom(typeName: string, base: string): boolean {
    return this.chain(typeName).some((t) => t.name === base);
  }

  /** Whether the type or a base type is an OpenType. */
  isOpen(typeName: string): boolean {
    return this.chain(typeName).some((t) => t.open);
  }
}

type XmlNode = Record<string, unknown>;

const ARRAY_ELEMENTS = new Set(['Schema', 'EntityType', 'ComplexType', 'EnumType', 'Property', 'NavigationProperty', 'Member', 'Term']);

function nodes(parent: XmlNode, name: string): XmlNode[] {
  const v = parent[name];
  return Array.isArray(v) ? (v as XmlNode[]) : [];
}

function attr(node: XmlNode, name: string): string | undefined {
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

/** Parses CSDL XML text into a model. */
export function parseCsdl(xml: string): CsdlModel {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    // Keep only what we read as arrays; everything else is left as the parser gives it.
    isArray: (name) => ARRAY_ELEMENTS.has(name),
  });
  const doc = parser.parse(xml.replace(/^\uFEFF/, '')) as XmlNode;
  const edmx = doc['edmx:Edmx'] as XmlNode | undefined;
  const services = edmx?.['edmx:DataServices'] as XmlNode | undefined;
  if (!services) throw new Error('CSDL: no edmx:Edmx/edmx:DataServices element');
  const schemas = nodes(services, 'Schema');
  if (schemas.length === 0) throw new Error('CSDL: no Schema element');

  // Aliases first: a type may name a type of another schema by that schema's alias.
  const aliases = new Map<string, string>();
  for (const s of schemas) {
    const ns = attr(s, 'Namespace');
    const alias = attr(s, 'Alias');
    if (ns && alias) aliases.set(alias, ns);
  }
  const qualify = (name: string): string => {
    const dot = name.lastIndexOf('.');
    if (dot < 0) return name;
    const prefix = name.slice(0, dot);
    const ns = aliases.get(prefix);
    return ns ? `${ns}${name.slice(dot)}` : name;
  };
  const typeRef = (raw: string): { type: string; collection: boolean } => {
    const m = /^Collection\((.+)\)$/.exec(raw);
    return m ? { type: qualify(m[1] ?? ''), collection: true } : { type: qualify(raw), collection: false };
  };

  const model = new CsdlModel();
  for (const s of schemas) {
    const ns = attr(s, 'Namespace');
    if (!ns) throw new Error('CSDL: Schema without Namespace');
    for (const [element, kind] of [['EntityType', 'entity'], ['ComplexType', 'complex']] as const) {
      for (const t of nodes(s, element)) {
        const name = `${ns}.${attr(t, 'Name') ?? ''}`;
        const properties = new Map<string, CsdlProperty>();
        for (const [el, navigation] of [['Property', false], ['NavigationProperty', true]] as const) {
          for (const p of nodes(t, el)) {
            const pname = attr(p, 'Name');
            const ptype = attr(p, 'Type');
            if (!pname || !ptype) throw new Error(`CSDL: ${name} has a ${el} without Name or Type`);
            properties.set(pname, { name: pname, ...typeRef(ptype), nullable: attr(p, 'Nullable') !== 'false', navigation });
          }
        }
        const base = attr(t, 'BaseType');
        model.types.set(name, {
          kind,
          name,
          baseType: base ? qualify(base) : undefined,
          open: attr(t, 'OpenType') === 'true',
          abstract: attr(t, 'Abstract') === 'true',
          properties,
        });
      }
    }
    for (const e of nodes(s, 'EnumType')) {
      const name = `${ns}.${attr(e, 'Name') ?? ''}`;
      model.types.set(name, {
        kind: 'enum',
        name,
        flags: attr(e, 'IsFlags') === 'true',
        members: new Set(nodes(e, 'Member').map((m) => attr(m, 'Name') ?? '')),
      });
    }
    for (const t of nodes(s, 'Term')) {
      const name = `${ns}.${attr(t, 'Name') ?? ''}`;
      model.terms.set(name, {
        name,
        type: attr(t, 'Type') ?? 'Edm.Untyped',
        // One Term in Microsoft's file has a stray ')' in AppliesTo; the name is what counts.
        appliesTo: (attr(t, 'AppliesTo') ?? '').split(/\s+/).filter((a) => a !== '').map((a) => qualify(a.replace(/\)$/, ''))),
      });
    }
  }
  return model;
}

/** Reads and parses a CSDL file. */
export function loadCsdl(path: string): CsdlModel {
  return parseCsdl(readFileSync(path, 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Checking payloads

/** What kind of deviation from the metadata a finding is. */
export type DeviationKind =
  | 'undeclared' // property not declared on the type (nor its bases) of a closed type
  | 'type' // JSON value of the wrong form for the declared type
  | 'null' // null where Nullable="false" (or a null collection)
  | 'enum' // not a member of the enum
  | 'derived' // @odata.type names a type that is not the declared one or derived from it
  | 'navigation' // navigation property present although not expanded
  | 'annotation'; // instance annotation that is neither known OData control information nor a declared Term

/** One way a payload departs from the metadata. */
export interface Deviation {
  kind: DeviationKind;
  /** The qualified type the property belongs to (or the value's type). */
  type: string;
  /** Property (or annotation) name; '' for the value itself. */
  property: string;
  /** JSON of the offending value, cut to 80 characters. */
  value: string;
  /** JSON path from the checked root, e.g. `value[3].siteCollection.hostName`. */
  path: string;
  message: string;
}

/** A dynamic (undeclared) property on an open type: allowed by the metadata, reported for review. */
export interface DynamicProperty {
  /** The open type that carries it. */
  type: string;
  property: string;
  path: string;
  value: unknown;
}

export interface CheckResult {
  deviations: Deviation[];
  dynamic: DynamicProperty[];
  /** `type.property` of every declared property seen (to show what a test covered). */
  seen: Set<string>;
}

export interface CheckOptions {
  /**
   * Navigation property paths that were expanded, relative to the root object
   * (`principal`); any other navigation property in the payload is a deviation.
   */
  expanded?: readonly string[];
  /**
   * The value type of dynamic properties of an open type, for open "dictionary" types whose
   * members are typed by convention (Planner's plannerAssignments → plannerAssignment).
   */
  dynamicValueTypes?: Readonly<Record<string, string>>;
}

/** OData JSON control information (OData JSON Format v4.01 §4.5) a Graph payload may carry. */
const ODATA_CONTROL = new Set([
  'context', 'metadataEtag', 'type', 'count', 'nextLink', 'deltaLink', 'id', 'editLink', 'readLink', 'etag',
  'navigationLink', 'associationLink', 'mediaEditLink', 'mediaReadLink', 'mediaContentType', 'mediaEtag', 'removed', 'delta',
]);

const DATE_TIME_OFFSET = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^(\d{4,})-(\d{2})-(\d{2})$/;
const TIME_OF_DAY = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,12})?)?$/;
const DURATION = /^-?P(?=\d|T\d)(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

function validDate(y: string, m: string, d: string): boolean {
  const mm = Number(m);
  const dd = Number(d);
  if (mm < 1 || mm > 12 || dd < 1) return false;
  const days = new Date(Date.UTC(2000, mm, 0)).getUTCDate(); // leap year: Feb has 29
  const leap = (Number(y) % 4 === 0 && Number(y) % 100 !== 0) || Number(y) % 400 === 0;
  return dd <= (mm === 2 && !leap ? 28 : days);
}

function validTime(h: string, min: string, s: string | undefined): boolean {
  return Number(h) <= 23 && Number(min) <= 59 && (s === undefined || Number(s) <= 59);
}

const INT_RANGES: Record<string, [number, number]> = {
  'Edm.Byte': [0, 255],
  'Edm.SByte': [-128, 127],
  'Edm.Int16': [-32768, 32767],
  'Edm.Int32': [-2147483648, 2147483647],
  'Edm.Int64': [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Why a JSON value is not of the primitive type, or undefined when it is. */
export function primitiveProblem(type: string, v: unknown): string | undefined {
  const range = INT_RANGES[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v)) return `${type} must be an integer JSON number`;
    return v < range[0] || v > range[1] ? `${type} out of range` : undefined;
  }
  switch (type) {
    case 'Edm.String':
      return typeof v === 'string' ? undefined : 'Edm.String must be a JSON string';
    case 'Edm.Boolean':
      return typeof v === 'boolean' ? undefined : 'Edm.Boolean must be true or false';
    case 'Edm.Double':
    case 'Edm.Single':
    case 'Edm.Decimal':
      // OData allows the strings NaN, INF, -INF for the floating types.
      if (typeof v === 'number') return undefined;
      return type !== 'Edm.Decimal' && (v === 'NaN' || v === 'INF' || v === '-INF') ? undefined : `${type} must be a JSON number`;
    case 'Edm.DateTimeOffset': {
      const m = typeof v === 'string' ? DATE_TIME_OFFSET.exec(v) : null;
      if (!m) return 'Edm.DateTimeOffset must be a string like 2024-01-31T12:00:00Z (date, time and offset)';
      return validDate(m[1] ?? '', m[2] ?? '', m[3] ?? '') && validTime(m[4] ?? '', m[5] ?? '', m[6]) ? undefined : 'Edm.DateTimeOffset is not a real date and time';
    }
    case 'Edm.Date': {
      const m = typeof v === 'string' ? DATE.exec(v) : null;
      return m && validDate(m[1] ?? '', m[2] ?? '', m[3] ?? '') ? undefined : 'Edm.Date must be a string YYYY-MM-DD';
    }
    case 'Edm.TimeOfDay': {
      const m = typeof v === 'string' ? TIME_OF_DAY.exec(v) : null;
      return m && validTime(m[1] ?? '', m[2] ?? '', m[3]) ? undefined : 'Edm.TimeOfDay must be a string hh:mm[:ss[.fff]]';
    }
    case 'Edm.Duration':
      return typeof v === 'string' && DURATION.test(v) ? undefined : 'Edm.Duration must be an ISO 8601 duration string (P…DT…H…M…S)';
    case 'Edm.Guid':
      return typeof v === 'string' && GUID.test(v) ? undefined : 'Edm.Guid must be a string 8-4-4-4-12 hex digits';
    case 'Edm.Binary':
      return typeof v === 'string' && BASE64.test(v) ? undefined : 'Edm.Binary must be a base64 string';
    case 'Edm.Stream':
    case 'Edm.Untyped':
    case 'Edm.PrimitiveType':
      return undefined;
    default:
      return `unknown primitive type ${type}`;
  }
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks JSON payloads against a model. */
export class PayloadChecker {
  constructor(private readonly model: CsdlModel) {}

  /** Checks one object (an entity or complex value) declared as `typeName`. */
  checkObject(value: unknown, typeName: string, options: CheckOptions = {}, path = ''): CheckResult {
    const result: CheckResult = { deviations: [], dynamic: [], seen: new Set() };
    this.value(result, options, value, { type: typeName, collection: false, nullable: true }, path, '', typeName, '');
    return result;
  }

  /** Checks every item of a collection declared as `Collection(typeName)`. */
  checkCollection(values: readonly unknown[], typeName: string, options: CheckOptions = {}, path = 'value'): CheckResult {
    const result: CheckResult = { deviations: [], dynamic: [], seen: new Set() };
    values.forEach((v, i) => this.value(result, options, v, { type: typeName, collection: false, nullable: true }, `${path}[${i}]`, '', typeName, ''));
    return result;
  }

  private deviation(r: CheckResult, kind: DeviationKind, type: string, property: string, value: unknown, path: string, message: string): void {
    r.deviations.push({ kind, type, property, value: short(value), path, message });
  }

  /**
   * One value of declared type `decl`. `owner`/`prop` name the property it is the value of (for
   * deviation records); `navPath` is the navigation path from the root (for `expanded`).
   */
  private value(
    r: CheckResult,
    o: CheckOptions,
    v: unknown,
    decl: { type: string; collection: boolean; nullable: boolean },
    path: string,
    navPath: string,
    owner: string,
    prop: string,
  ): void {
    if (decl.collection) {
      if (v === null) return this.deviation(r, 'null', owner, prop, v, path, `Collection(${decl.type}) is null; OData collections are arrays, possibly empty`);
      if (!Array.isArray(v)) return this.deviation(r, 'type', owner, prop, v, path, `Collection(${decl.type}) must be a JSON array`);
      v.forEach((item, i) => {
        if (item === null) {
          if (!decl.nullable) this.deviation(r, 'null', owner, prop, item, `${path}[${i}]`, `null item in Collection(${decl.type}) declared Nullable="false"`);
          return;
        }
        this.value(r, o, item, { ...decl, collection: false, nullable: false }, `${path}[${i}]`, navPath, owner, prop);
      });
      return;
    }
    if (v === null) {
      if (!decl.nullable) this.deviation(r, 'null', owner, prop, v, path, `null where ${owner}.${prop} is Nullable="false"`);
      return;
    }
    if (decl.type.startsWith('Edm.')) {
      const problem = primitiveProblem(decl.type, v);
      if (problem) this.deviation(r, 'type', owner, prop, v, path, problem);
      return;
    }
    const t = this.model.types.get(decl.type);
    if (!t) throw new Error(`CSDL: ${owner}.${prop} has type ${decl.type}, which is not declared`);
    if (t.kind === 'enum') {
      if (typeof v !== 'string') return this.deviation(r, 'type', owner, prop, v, path, `${t.name} (enum) must be a JSON string`);
      const names = t.flags ? v.split(',').map((s) => s.trim()) : [v];
      const bad = names.filter((n) => !t.members.has(n));
      if (bad.length > 0) {
        this.deviation(r, 'enum', owner, prop, v, path, `${bad.map((b) => `'${b}'`).join(', ')} not a member of ${t.name}${t.flags ? ' (flags)' : ''}: ${[...t.members].join(', ')}`);
      }
      return;
    }
    if (!isObject(v)) return this.deviation(r, 'type', owner, prop, v, path, `${t.name} must be a JSON object`);
    this.object(r, o, v, t.name, path, navPath);
  }

  private object(r: CheckResult, o: CheckOptions, v: Record<string, unknown>, declared: string, path: string, navPath: string): void {
    let typeName = declared;
    const odataType = v['@odata.type'];
    if (odataType !== undefined) {
      const named = typeof odataType === 'string' ? odataType.replace(/^#/, '') : '';
      const qualified = named.includes('.') ? named : `microsoft.graph.${named}`;
      if (!this.model.structured(qualified) || !this.model.derivesFrom(qualified, declared)) {
        this.deviation(r, 'derived', declared, '@odata.type', odataType, `${path}@odata.type`, `@odata.type ${short(odataType)} is not ${declared} or a type derived from it`);
      } else typeName = qualified;
    }
    const open = this.model.isOpen(typeName);
    for (const [key, val] of Object.entries(v)) {
      const at = path === '' ? key : `${path}.${key}`;
      const a = key.indexOf('@');
      if (a >= 0) {
        this.annotation(r, typeName, key.slice(0, a), key.slice(a + 1), val, at);
        continue;
      }
      const found = this.model.property(typeName, key);
      if (!found) {
        if (open) {
          r.dynamic.push({ type: typeName, property: key, path: at, value: val });
          const valueType = o.dynamicValueTypes?.[typeName];
          if (valueType) this.value(r, o, val, { type: valueType, collection: false, nullable: true }, at, navPath, typeName, key);
        } else {
          this.deviation(r, 'undeclared', typeName, key, val, at, `${typeName} declares no property '${key}' (nor do its base types)${this.nearMiss(typeName, key)}`);
        }
        continue;
      }
      const p = found.property;
      r.seen.add(`${found.declaredOn}.${key}`);
      let childNav = navPath;
      if (p.navigation) {
        childNav = navPath === '' ? key : `${navPath}/${key}`;
        // Still checked as its type below: an inlined value must be right even where it is a quirk.
        if (!(o.expanded ?? []).includes(childNav)) {
          this.deviation(r, 'navigation', found.declaredOn, key, val, at, `navigation property ${found.declaredOn}.${key} returned although not expanded`);
        }
      }
      this.value(r, o, val, p, at, childNav, found.declaredOn, key);
    }
  }

  /** Case-insensitive look-alike, for the message ("did you mean hostname?"). */
  private nearMiss(typeName: string, key: string): string {
    for (const t of this.model.chain(typeName)) {
      for (const name of t.properties.keys()) if (name.toLowerCase() === key.toLowerCase()) return `; the metadata spells it '${name}'`;
    }
    return '';
  }

  /** `@odata.x` control information or a `@namespace.term` annotation, on the object or on a property (`prop@…`). */
  private annotation(r: CheckResult, typeName: string, target: string, name: string, val: unknown, path: string): void {
    if (name.startsWith('odata.')) {
      const control = name.slice('odata.'.length);
      if (!ODATA_CONTROL.has(control)) this.deviation(r, 'annotation', typeName, `${target}@${name}`, val, path, `@${name} is not OData control information`);
      else if (control !== 'count' && typeof val !== 'string') this.deviation(r, 'annotation', typeName, `${target}@${name}`, val, path, `@${name} must be a string`);
      return;
    }
    const term = this.model.terms.get(name);
    if (!term) {
      this.deviation(r, 'annotation', typeName, `${target}@${name}`, val, path, `@${name} is not a Term declared in the metadata`);
      return;
    }
    if (target === '' && term.appliesTo.length > 0 && !term.appliesTo.some((a) => this.model.structured(a) !== undefined && this.model.derivesFrom(typeName, a))) {
      this.deviation(r, 'annotation', typeName, `@${name}`, val, path, `@${name} applies to ${term.appliesTo.join(', ')}, not ${typeName}`);
      return;
    }
    const problem = term.type.startsWith('Edm.') ? primitiveProblem(term.type, val) : undefined;
    if (problem) this.deviation(r, 'annotation', typeName, `${target}@${name}`, val, path, `@${name}: ${problem}`);
  }
}
