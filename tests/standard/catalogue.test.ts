import { readControls } from '../support/controls-doc';
import { clause, clauses, manualClauses } from '../../src/standard/catalogue';

/** Every clause id named in the `clause` column of docs/controls.md (read from the document). */
const CONTROL_CLAUSES = [...new Set(readControls().flatMap((c) => c.clauses))];

const itemsOf = (sectionId: string): string[] =>
  clauses.filter((c) => c.level === 'item' && c.parent === sectionId).map((c) => c.id);

describe('clause catalogue', () => {
  it('has unique ids', () => {
    const ids = clauses.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has chapters 1-12, sections as the headings number them', () => {
    expect(clauses.filter((c) => c.level === 'chapter').map((c) => c.id)).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'],
    );
    const sections = clauses.filter((c) => c.level === 'section').map((c) => c.id);
    expect(sections).toHaveLength(36);
    expect(sections).toEqual(expect.arrayContaining(['1-5', '2-5', '3-3', '4-3', '5-11', '6-2', '7-7']));
  });

  it('gives chapters no parent and sections a chapter as parent', () => {
    for (const c of clauses) {
      if (c.level === 'chapter') expect(c.parent).toBeUndefined();
      if (c.level === 'section') {
        expect(clause(c.parent ?? '')?.level).toBe('chapter');
        expect(c.id.startsWith(`${c.parent}-`)).toBe(true);
      }
    }
  });

  it("puts every item under an existing section (or a chapter without sections) and prefixes its id with the parent's", () => {
    const chaptersWithSections = new Set(clauses.filter((c) => c.level === 'section').map((c) => c.parent));
    for (const item of clauses.filter((c) => c.level === 'item')) {
      const parent = clause(item.parent ?? '');
      expect(parent).toBeDefined();
      if (parent === undefined) continue;
      const sectionLike = parent.level === 'section' || (parent.level === 'chapter' && !chaptersWithSections.has(parent.id));
      expect({ item: item.id, sectionLike }).toEqual({ item: item.id, sectionLike: true });
      expect(item.id.startsWith(`${parent.id}-`)).toBe(true);
    }
  });

  it('lists clauses in document order (every clause comes after its parent)', () => {
    const position = new Map(clauses.map((c, i) => [c.id, i]));
    for (const c of clauses) {
      if (c.parent !== undefined) expect(position.get(c.parent)).toBeLessThan(position.get(c.id) ?? -1);
    }
  });

  it('gives every clause non-empty ja and en titles, items a short ja summary', () => {
    for (const c of clauses) {
      expect(c.title.ja.trim()).not.toBe('');
      expect(c.title.en.trim()).not.toBe('');
      if (c.level === 'item') expect([...c.title.ja].length).toBeLessThanOrEqual(40);
    }
  });

  it('keeps section and chapter headings as the standard writes them', () => {
    expect(clause('5')?.title.ja).toBe('技術的対策');
    expect(clause('5-11')?.title.ja).toBe('可用性対策（重要業務継続）');
    expect(clause('6')?.title.ja).toBe('外部委託及びクラウドサービスの利用');
    expect(clause('12')?.title.ja).toBe('評価及び見直し');
  });

  it('has every clause that controls.md names, and marks it automatable', () => {
    for (const id of CONTROL_CLAUSES) {
      expect({ id, automatable: clause(id)?.automatable }).toEqual({ id, automatable: true });
    }
  });

  it('marks automatable exactly the controlled clauses and their sections and chapters', () => {
    const expected = new Set<string>();
    for (const id of CONTROL_CLAUSES) {
      for (let c = clause(id); c !== undefined; c = c.parent === undefined ? undefined : clause(c.parent)) {
        expected.add(c.id);
      }
    }
    const actual = clauses.filter((c) => c.automatable).map((c) => c.id);
    expect(new Set(actual)).toEqual(expected);
    expect(clause('5-1')?.automatable).toBe(true);
    expect(clause('5')?.automatable).toBe(true);
    expect(clause('2-2-1')?.automatable).toBe(false);
  });

  it('numbers list items in order, across blank lines', () => {
    expect(itemsOf('5-1')).toEqual(['5-1-1', '5-1-2', '5-1-3', '5-1-4']);
    expect(itemsOf('5-4')).toHaveLength(4);
    expect(itemsOf('7-5')).toHaveLength(6);
    expect(itemsOf('2-2')).toEqual(['2-2-1', '2-2-2', '2-2-3']);
    expect(itemsOf('1-1')).toHaveLength(7);
    expect(itemsOf('6-2')).toHaveLength(3);
    expect(itemsOf('8')).toEqual(['8-1', '8-2', '8-3', '8-4']);
    expect(itemsOf('2-1')).toEqual([]);
  });

  it('treats 3-2-1 (入退室の記録) as manual', () => {
    const c = clause('3-2-1');
    expect(c?.title.ja).toContain('入退室の記録');
    expect(c?.automatable).toBe(false);
    expect(manualClauses()).toContainEqual(c);
  });

  it('lists no automatable clause as manual, and leaves out chapters whose sections are listed', () => {
    const manual = manualClauses();
    expect(manual.filter((c) => c.automatable)).toEqual([]);
    const ids = manual.map((c) => c.id);
    expect(ids).not.toContain('1');
    expect(ids).not.toContain('3');
    expect(ids).toEqual(expect.arrayContaining(['1-1', '1-4', '9', '10', '11', '12']));
  });

  it('finds nothing for an unknown id', () => {
    expect(clause('5-12')).toBeUndefined();
    expect(clause('')).toBeUndefined();
  });
});
