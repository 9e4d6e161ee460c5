// A model of objects' time bounds for store tests: random bounds as calendars have them, and the check
// that a store's time-range candidates are exactly the objects whose bounds meet each range.
import assert from 'node:assert/strict';
import { mulberry32 } from '../../bench/generate.ts';
import type { Store } from '../../src/store/store.ts';

const DAY = 86_400_000;
const BASE = Date.UTC(2026, 0, 1);

export interface Bounds {
  readonly firstStart: number | null;
  readonly lastEnd: number | null;
  /** The main component; mostly events, some tasks. */
  readonly component: 'VEVENT' | 'VTODO';
}

/** A seeded generator, so a failure names a case that can be run again. */
export const random = mulberry32;

/** Bounds as calendars have them: mostly an hour, some spanning months, some open on one side or both. */
export function randomBounds(next: () => number): Bounds {
  const component = next() < 0.8 ? 'VEVENT' : 'VTODO';
  return { ...randomSpan(next), component };
}

function randomSpan(next: () => number): Omit<Bounds, 'component'> {
  const start = BASE + Math.floor((next() - 0.5) * 3 * 365 * DAY) + Math.floor(next() * 60_000);
  const kind = next();
  if (kind < 0.05) return { firstStart: null, lastEnd: null };
  if (kind < 0.12) return { firstStart: start, lastEnd: null };
  if (kind < 0.3) return { firstStart: start, lastEnd: start + Math.floor(next() * 200 * DAY) };
  return { firstStart: start, lastEnd: start + Math.floor(next() * 4) * 1_800_000 };
}

function meets(bounds: Bounds, start: number | null, end: number | null): boolean {
  return (start === null || bounds.lastEnd === null || bounds.lastEnd >= start) && (end === null || bounds.firstStart === null || bounds.firstStart <= end);
}

/** What each collection holds, kept beside the store: the truth the candidates are compared with. */
export type Model = Map<number, Map<string, Bounds>>;

export async function assertCandidates(store: Store, model: Model, next: () => number, label: string): Promise<void> {
  for (const [collectionId, objects] of model) {
    const edges = [...objects.values()].flatMap((b) => [b.firstStart, b.lastEnd]).filter((v): v is number => v !== null);
    for (let i = 0; i < 40; i++) {
      // Random windows, and windows that start or end exactly on a stored bound (both sides are inclusive).
      const at = edges[Math.floor(next() * edges.length)] ?? BASE;
      const start = i % 10 === 0 ? null : i % 3 === 0 ? at : BASE + Math.floor((next() - 0.5) * 3 * 365 * DAY);
      const end = i % 10 === 5 ? null : i % 3 === 1 ? at : (start ?? BASE) + Math.floor(next() * (i % 2 === 0 ? 3 * 3_600_000 : 40 * DAY));
      const componentType = [undefined, 'VEVENT', 'VTODO'][i % 3];
      const expected = [...objects].filter(([, b]) => meets(b, start, end) && (componentType === undefined || b.component === componentType)).map(([name]) => name).sort();
      const actual = (await store.queryObjects(collectionId, { overlapping: { start, end }, ...(componentType === undefined ? {} : { componentType }) })).map((o) => o.name);
      assert.deepEqual(actual, expected, `${label}: collection ${collectionId}, ${componentType ?? 'any component'}, range ${start} .. ${end}`);
    }
  }
}

/**
 * Every kind of write on the calendars of the model (and the model with them): puts that replace,
 * deletes, moves into another calendar, copies, then a whole calendar deleted; the candidates are
 * checked after the object writes and after the calendar delete. `calendars` needs three.
 */
export async function writeEveryWay(
  store: Store,
  model: Model,
  calendars: readonly number[],
  put: (collectionId: number, name: string, bounds: Bounds) => Promise<void>,
  next: () => number,
): Promise<void> {
  const [first, second, third] = calendars;
  if (first === undefined || second === undefined || third === undefined) throw new Error('three calendars needed');
  for (let i = 30; i < 60; i += 3) await put(first, `o${i}.ics`, randomBounds(next));
  for (let i = 33; i < 60; i += 3) {
    await store.deleteObject(first, `o${i}.ics`);
    model.get(first)?.delete(`o${i}.ics`);
  }
  for (let i = 1; i < 40; i += 3) {
    const bounds = model.get(second)?.get(`o${i}.ics`);
    assert.ok(bounds);
    await store.moveObject(second, `o${i}.ics`, { parentId: first, name: `moved-${i}.ics`, replace: false });
    model.get(second)?.delete(`o${i}.ics`);
    model.get(first)?.set(`moved-${i}.ics`, bounds);
    await store.copyObject(first, `moved-${i}.ics`, { parentId: third, name: `copied-${i}.ics`, replace: false });
    model.get(third)?.set(`copied-${i}.ics`, bounds);
  }
  await assertCandidates(store, model, next, 'after puts, deletes, moves and copies');
  await store.deleteCollection(third);
  model.delete(third);
  await assertCandidates(store, model, next, 'after deleting a calendar');
}
