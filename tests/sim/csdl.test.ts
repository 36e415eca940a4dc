/**
 * The CSDL reader and payload checker (tests/support/csdl.ts) on a small hand-written schema, so
 * that what the metadata conformance test (metadata.test.ts) passes is known to be checked.
 */
import { parseCsdl, PayloadChecker, primitiveProblem, type CheckResult } from '../support/csdl';

const XML = `\uFEFF<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="color"><Member Name="red" Value="0" /><Member Name="blue" Value="1" /></EnumType>
      <EnumType Name="modes" IsFlags="true"><Member Name="a" Value="1" /><Member Name="b" Value="2" /></EnumType>
      <ComplexType Name="facet"><Property Name="count" Type="Edm.Int32" /></ComplexType>
      <ComplexType Name="bag" OpenType="true"><Property Name="known" Type="Edm.String" /></ComplexType>
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityType Name="thing" BaseType="graph.entity">
        <Property Name="when" Type="Edm.DateTimeOffset" />
        <Property Name="day" Type="Edm.Date" />
        <Property Name="guid" Type="Edm.Guid" />
        <Property Name="size" Type="Edm.Int64" />
        <Property Name="ratio" Type="Edm.Double" />
        <Property Name="flag" Type="Edm.Boolean" Nullable="false" />
        <Property Name="color" Type="graph.color" />
        <Property Name="modes" Type="graph.modes" />
        <Property Name="facet" Type="graph.facet" />
        <Property Name="tags" Type="Collection(Edm.String)" Nullable="false" />
        <Property Name="bag" Type="graph.bag" />
        <NavigationProperty Name="owner" Type="graph.thing" />
      </EntityType>
      <EntityType Name="special" BaseType="graph.thing"><Property Name="extra" Type="Edm.String" /></EntityType>
      <EntityType Name="other" BaseType="graph.entity" />
      <Term Name="sharedChanged" Type="Edm.Boolean" AppliesTo="microsoft.graph.thing" />
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`;

const model = parseCsdl(XML);
const checker = new PayloadChecker(model);

function kinds(r: CheckResult): string[] {
  return r.deviations.map((d) => `${d.kind} ${d.type}.${d.property}`);
}

test('reads types, base types, aliases, enums and terms', () => {
  expect(model.chain('microsoft.graph.special').map((t) => t.name)).toEqual(['microsoft.graph.special', 'microsoft.graph.thing', 'microsoft.graph.entity']);
  expect(model.property('microsoft.graph.special', 'id')?.declaredOn).toBe('microsoft.graph.entity');
  expect(model.property('microsoft.graph.thing', 'tags')?.property).toMatchObject({ type: 'Edm.String', collection: true, nullable: false });
  expect(model.property('microsoft.graph.thing', 'owner')?.property.navigation).toBe(true);
  expect(model.isOpen('microsoft.graph.bag')).toBe(true);
  expect(model.terms.get('microsoft.graph.sharedChanged')?.appliesTo).toEqual(['microsoft.graph.thing']);
});

test('a conforming object has no deviations, and what it used is recorded as seen', () => {
  const r = checker.checkObject(
    {
      '@odata.etag': 'W/"1"',
      '@microsoft.graph.sharedChanged': true,
      'tags@odata.context': 'x',
      id: '1', when: '0001-01-01T00:00:00Z', day: '2024-02-29', guid: '62e90394-69f5-4237-9190-012177145e10', size: 4_800_000_000,
      ratio: 0.5, flag: false, color: 'red', modes: 'a, b', facet: { count: 3 }, tags: [], bag: { known: 'k', dynamic: 1 },
    },
    'microsoft.graph.thing',
  );
  expect(kinds(r)).toEqual([]);
  expect(r.seen).toContain('microsoft.graph.entity.id');
  expect(r.dynamic).toEqual([{ type: 'microsoft.graph.bag', property: 'dynamic', path: 'bag.dynamic', value: 1 }]);
});

test('undeclared properties, wrong types, nulls, enum members and nested values are deviations', () => {
  const r = checker.checkObject(
    {
      id: null, hostName: 'x', when: '', day: '2023-02-29', guid: 'ad31vb6b-5zd0-7tyg-m231-kj8d6578432c', size: 1.5, ratio: '1',
      flag: null, color: 'green', modes: 'a,c', facet: { count: '3', other: 1 }, tags: null,
    },
    'microsoft.graph.thing',
  );
  expect(kinds(r)).toEqual([
    'null microsoft.graph.entity.id',
    'undeclared microsoft.graph.thing.hostName',
    'type microsoft.graph.thing.when',
    'type microsoft.graph.thing.day',
    'type microsoft.graph.thing.guid',
    'type microsoft.graph.thing.size',
    'type microsoft.graph.thing.ratio',
    'null microsoft.graph.thing.flag',
    'enum microsoft.graph.thing.color',
    'enum microsoft.graph.thing.modes',
    'type microsoft.graph.facet.count',
    'undeclared microsoft.graph.facet.other',
    'null microsoft.graph.thing.tags',
  ]);
  expect(checker.checkObject({ tags: [null, 2] }, 'microsoft.graph.thing').deviations.map((d) => d.path)).toEqual(['tags[0]', 'tags[1]']);
});

test('@odata.type selects a derived type; an unrelated one is a deviation', () => {
  expect(kinds(checker.checkObject({ '@odata.type': '#microsoft.graph.special', id: '1', extra: 'e' }, 'microsoft.graph.thing'))).toEqual([]);
  expect(kinds(checker.checkObject({ id: '1', extra: 'e' }, 'microsoft.graph.thing'))).toEqual(['undeclared microsoft.graph.thing.extra']);
  expect(kinds(checker.checkObject({ '@odata.type': '#microsoft.graph.other', id: '1' }, 'microsoft.graph.thing'))).toEqual(['derived microsoft.graph.thing.@odata.type']);
});

test('navigation properties count only when expanded, and are checked as their type either way', () => {
  const payload = { id: '1', owner: { id: '2', flag: 'yes' } };
  expect(kinds(checker.checkObject(payload, 'microsoft.graph.thing', { expanded: ['owner'] }))).toEqual(['type microsoft.graph.thing.flag']);
  expect(kinds(checker.checkObject(payload, 'microsoft.graph.thing'))).toEqual(['navigation microsoft.graph.thing.owner', 'type microsoft.graph.thing.flag']);
});

test('annotations: OData control information and declared terms only', () => {
  const r = checker.checkObject(
    { id: '1', '@odata.bogus': 'x', '@deprecated.GrantedTo': 'x', '@microsoft.graph.sharedChanged': 'yes', 'bag@microsoft.graph.unknown': 1 },
    'microsoft.graph.thing',
  );
  expect(kinds(r)).toEqual([
    'annotation microsoft.graph.thing.@odata.bogus',
    'annotation microsoft.graph.thing.@deprecated.GrantedTo',
    'annotation microsoft.graph.thing.@microsoft.graph.sharedChanged',
    'annotation microsoft.graph.thing.bag@microsoft.graph.unknown',
  ]);
  expect(kinds(checker.checkObject({ id: '1', '@microsoft.graph.sharedChanged': true }, 'microsoft.graph.other'))).toEqual(['annotation microsoft.graph.other.@microsoft.graph.sharedChanged']);
});

test('dynamic values of open dictionaries are checked when the caller types them', () => {
  const r = checker.checkObject({ bag: { a: { count: 'x' } } }, 'microsoft.graph.thing', { dynamicValueTypes: { 'microsoft.graph.bag': 'microsoft.graph.facet' } });
  expect(kinds(r)).toEqual(['type microsoft.graph.facet.count']);
});

test('primitive forms', () => {
  expect(primitiveProblem('Edm.DateTimeOffset', '2020-03-13T19:15:41.6195833Z')).toBeUndefined();
  expect(primitiveProblem('Edm.DateTimeOffset', '2020-03-13T19:15:41+09:00')).toBeUndefined();
  expect(primitiveProblem('Edm.DateTimeOffset', '2020-03-13')).toBeDefined();
  expect(primitiveProblem('Edm.DateTimeOffset', '2020-13-01T00:00:00Z')).toBeDefined();
  expect(primitiveProblem('Edm.Duration', 'PT1H30M')).toBeUndefined();
  expect(primitiveProblem('Edm.Duration', 'P')).toBeDefined();
  expect(primitiveProblem('Edm.TimeOfDay', '23:59:59.1234567')).toBeUndefined();
  expect(primitiveProblem('Edm.TimeOfDay', '24:00')).toBeDefined();
  expect(primitiveProblem('Edm.Binary', 'AQAAAJ5dZp8=')).toBeUndefined();
  expect(primitiveProblem('Edm.Binary', 'not base64!')).toBeDefined();
  expect(primitiveProblem('Edm.Int32', 2147483648)).toBeDefined();
  expect(primitiveProblem('Edm.Double', 'NaN')).toBeUndefined();
});
