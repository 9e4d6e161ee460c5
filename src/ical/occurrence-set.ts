// The recurrence set of a master component (RFC 5545 §3.8.5): DTSTART, every RRULE, RDATE (DATE,
// DATE-TIME and PERIOD) minus EXDATE, in start order, with a hard bound on the work a hostile rule
// can cause. Imports nothing of ours outside src/ical.
import ICAL from 'ical.js';
import { isFloating, toUtcMs, wallTimeIn } from './occurrence-time.ts';
import { fromWallSeconds, subDailyRule, SUBDAILY_BUDGET_EXCEEDED, wallSeconds } from './subdaily-rule.ts';
import type { SubDailyRule } from './subdaily-rule.ts';
import { lowestOffset } from './tz-offsets.ts';

/** The components a calendar object resource is about, in the order they are looked for. */
export const MAIN_TYPES: readonly string[] = ['vevent', 'vtodo', 'vjournal', 'vfreebusy', 'vavailability'];

/** The object's main component type (lower case), or null if it has none of MAIN_TYPES. */
export function mainComponentType(vcalendar: ICAL.Component): string | null {
  for (const child of vcalendar.getAllSubcomponents()) {
    if (MAIN_TYPES.includes(child.name)) return child.name;
  }
  return null;
}

export function hasRecurrence(component: ICAL.Component): boolean {
  return component.hasProperty('rrule') || component.hasProperty('rdate');
}

/** One member of the set: its start in the master's zone (or the RDATE's), in UTC ms, and a PERIOD's end. */
export interface SetMember {
  readonly time: ICAL.Time;
  readonly ms: number;
  readonly periodEndMs?: number;
}

export interface RecurrenceSet {
  /** The next member in start order, or null when the set ends or a limit was hit (see `truncated`). */
  next(): SetMember | null;
  /** True once iteration stopped at a limit instead of at the end of every rule. */
  readonly truncated: boolean;
  /** Which limit stopped it: the instance cap, the work budget, or an error inside ical.js. */
  readonly stoppedBy: 'instances' | 'budget' | 'error' | null;
}

export interface SetLimits {
  /** Values drawn from the RRULE iterators together (RDATEs are not counted). */
  readonly maxIterations: number;
  /** Candidate tests inside ical.js; default max(10000, 5 × maxIterations). */
  readonly maxChecks?: number;
  /**
   * Members starting before this instant (ms) are not needed: rules that allow it start iterating
   * shortly before it instead of at DTSTART (see fastForwardStart). Members before it may be missing
   * or, at the new start, spurious.
   */
  readonly notBefore?: number;
  /**
   * performance.now() after which iteration stops as if the work budget ran out: the CPU a single
   * object may cost, whatever the shape of its rules.
   */
  readonly deadline?: number;
}

/** Wall-clock length of one FREQ period, for the frequencies whose periods are all equally long. */
const PERIOD_SECONDS: Readonly<Record<string, number>> = { SECONDLY: 1, MINUTELY: 60, HOURLY: 3600, DAILY: 86_400, WEEKLY: 604_800 };
/**
 * A member starting at or after an instant has a wall-clock reading of at least that instant plus the
 * lowest offset its zone has from then on; members more than this far after it are later anyway
 * (offsets lie within -12 h and +14 h).
 */
const OFFSET_WINDOW_SECONDS = 2 * 86_400;
/** How often (in drawn values or checks) the deadline is looked at. */
const CLOCK_EVERY = 256;

/**
 * Work allowed inside ical.js per rule iteration. ical.js tests candidate times one by one against the
 * contracting BYxxx parts and never gives up on an impossible rule (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30
 * spins forever), so every candidate test is counted and iteration stops after this many per allowed
 * instance.
 */
const CHECKS_PER_INSTANCE = 5;

const BUDGET_EXCEEDED = new Error('recurrence budget exceeded');

interface RuleSource {
  readonly rule: ICAL.Recur;
  /** The next value of the rule on the wall clock (floating), or null when the rule ends. */
  readonly draw: () => ICAL.Time | null;
  /** Whether draw() returns a new ICAL.Time each time (ical.js's iterator reuses one). */
  readonly fresh: boolean;
  head: SetMember | null;
}

/**
 * ical.js normalises impossible dates instead of skipping them (YEARLY;BYMONTH=2;BYMONTHDAY=30 yields
 * 2 March); any real member of a rule with BYMONTH / BYMONTHDAY satisfies them, so others are dropped.
 */
function satisfiesRule(time: ICAL.Time, rule: ICAL.Recur): boolean {
  const months = rule.parts.BYMONTH;
  if (months !== undefined && !months.includes(time.month)) return false;
  const days = rule.parts.BYMONTHDAY;
  if (days !== undefined) {
    const length = ICAL.Time.daysInMonth(time.month, time.year);
    if (!days.some((d) => (d > 0 ? d === time.day : length + d + 1 === time.day))) return false;
  }
  return true;
}

/**
 * The recurrence set of `master` (which must have a DTSTART), floating values read in `zone`. At
 * most `limits.maxIterations` values are drawn from the RRULE iterators together (RDATEs are not
 * counted: the object's size bounds them); past that, or past the work budget, `truncated` is set. DTSTART is
 * always the first member (RFC 5545 §3.8.2.4), a start produced twice counts once, and EXDATE removes
 * members by instant (a DATE EXDATE removes every member on that date).
 */
export function recurrenceSet(master: ICAL.Component, zone: ICAL.Timezone | undefined, limits: SetLimits): RecurrenceSet {
  const dtstart = master.getFirstPropertyValue('dtstart');
  if (!(dtstart instanceof ICAL.Time)) throw new Error('a recurrence set needs a DTSTART');
  const maxIterations = limits.maxIterations;
  const maxChecks = limits.maxChecks ?? Math.max(10_000, maxIterations * CHECKS_PER_INSTANCE);
  let iterations = 0;
  /** Candidate tests (ical.js) and skips (sub-daily arithmetic) left. */
  const budget = { steps: maxChecks };
  let stoppedBy: RecurrenceSet['stoppedBy'] = null;

  // Rules run on the wall clock (RFC 5545 §3.3.10: local time stays, whatever DST does). ical.js
  // would compare zoned times through its slow offset code at every step, so a zoned DTSTART is
  // iterated as a floating copy, with a UTC UNTIL moved to that zone's wall clock, and every result
  // is put back into the zone.
  const ruleZone = isFloating(dtstart) || dtstart.zone === ICAL.Timezone.utcTimezone ? null : dtstart.zone;
  const iterationStart = dtstart.clone();
  if (ruleZone !== null) iterationStart.zone = ICAL.Timezone.localTimezone;

  function wallClockRule(rule: ICAL.Recur): ICAL.Recur {
    if (ruleZone === null || rule.until === null || isFloating(rule.until)) return rule;
    const copy = rule.clone();
    copy.until = wallTimeIn(ruleZone, toUtcMs(rule.until));
    return copy;
  }

  const rdates: SetMember[] = [];
  for (const property of master.getAllProperties('rdate')) {
    for (const value of property.getValues() as unknown[]) {
      if (value instanceof ICAL.Time) rdates.push({ time: value.clone(), ms: toUtcMs(value, zone) });
      else if (value instanceof ICAL.Period) {
        rdates.push({ time: value.start.clone(), ms: toUtcMs(value.start, zone), periodEndMs: toUtcMs(value.getEnd(), zone) });
      }
    }
  }
  rdates.sort((a, b) => a.ms - b.ms);
  let rdateIndex = 0;

  const excludedMs = new Set<number>();
  const excludedDates = new Set<string>();
  for (const property of master.getAllProperties('exdate')) {
    for (const value of property.getValues() as unknown[]) {
      if (!(value instanceof ICAL.Time)) continue;
      if (value.isDate) excludedDates.add(dateKey(value));
      else excludedMs.add(toUtcMs(value, zone));
    }
  }

  let first: SetMember | null = { time: dtstart.clone(), ms: toUtcMs(dtstart, zone) };
  let lastMs = -Infinity;

  /**
   * The wall-clock reading (floating seconds) below which no member can start at or after
   * limits.notBefore: that instant plus the lowest offset the values' zone has shortly after it.
   */
  function targetWallSeconds(): number | null {
    if (limits.notBefore === undefined) return null;
    const from = Math.floor(limits.notBefore / 1000);
    const offsetZone = ruleZone ?? (isFloating(iterationStart) ? zone ?? ICAL.Timezone.utcTimezone : ICAL.Timezone.utcTimezone);
    return from + lowestOffset(offsetZone, from - OFFSET_WINDOW_SECONDS, from + OFFSET_WINDOW_SECONDS);
  }

  /**
   * A later start for `rule` that yields the same members from there on (from the target on): DTSTART
   * moved by whole periods, for SECONDLY to WEEKLY rules without COUNT or BYSETPOS (every period is alike there, and
   * the BYxxx defaults taken from DTSTART — time of day, weekday — do not change). Null if not possible.
   */
  function fastForwardStart(rule: ICAL.Recur): ICAL.Time | null {
    const unit = PERIOD_SECONDS[rule.freq];
    const target = targetWallSeconds();
    if (target === null || rule.count !== null) return null;
    if (rule.freq === 'MONTHLY' || rule.freq === 'YEARLY') return calendarFastForward(rule, target);
    if (unit === undefined || rule.parts.BYSETPOS !== undefined) return null;
    if (iterationStart.isDate && unit < 86_400) return null;
    const period = unit * rule.interval;
    const periods = Math.floor((target - wallSeconds(iterationStart)) / period) - 1;
    if (!(periods >= 1)) return null;
    const moved = iterationStart.clone();
    if (unit >= 86_400) moved.adjust((periods * period) / 86_400, 0, 0, 0);
    else moved.adjust(0, 0, 0, periods * period);
    return moved;
  }

  /**
   * MONTHLY and YEARLY rules without COUNT (BYSETPOS allowed: it picks within each period, and whole
   * periods are kept): DTSTART moved by whole INTERVALs of months or years to at least two periods
   * before the target, keeping its time of day. Where the rule takes its day (MONTHLY, YEARLY) or month
   * (YEARLY) from DTSTART, those are kept, and only a day of 28 or less moves safely; where the rule
   * names its own days (MONTHLY BYDAY/BYMONTHDAY; YEARLY BYMONTH with day parts, BYYEARDAY, BYWEEKNO)
   * the start moves to the first day of the month or year. Null otherwise (e.g. YEARLY;BYDAY=MO
   * without BYMONTH, whose month ical.js may take from DTSTART).
   */
  function calendarFastForward(rule: ICAL.Recur, target: number): ICAL.Time | null {
    const parts = rule.parts as Record<string, unknown>;
    const has = (name: string): boolean => parts[name] !== undefined;
    const dayParts = has('BYDAY') || has('BYMONTHDAY') || has('BYYEARDAY') || has('BYWEEKNO');
    const monthly = rule.freq === 'MONTHLY';
    let keep: 'day' | 'first-of-month' | 'first-of-year';
    if (monthly) {
      if (has('BYYEARDAY') || has('BYWEEKNO')) return null;
      keep = has('BYDAY') || has('BYMONTHDAY') ? 'first-of-month' : 'day';
    } else if (!dayParts) {
      keep = 'day';
    } else if (has('BYMONTH') || has('BYYEARDAY') || has('BYWEEKNO')) {
      keep = 'first-of-year';
    } else {
      return null;
    }
    if (keep === 'day' && iterationStart.day > 28) return null;
    const to = new Date(target * 1000);
    const months = (to.getUTCFullYear() - iterationStart.year) * 12 + (to.getUTCMonth() + 1 - iterationStart.month);
    const periodMonths = (monthly ? 1 : 12) * rule.interval;
    const periods = Math.floor(months / periodMonths) - 2;
    if (!(periods >= 1)) return null;
    const moved = iterationStart.clone();
    const monthIndex = iterationStart.year * 12 + (iterationStart.month - 1) + periods * periodMonths;
    moved.year = Math.floor(monthIndex / 12);
    moved.month = (monthIndex % 12) + 1;
    if (keep === 'first-of-month') moved.day = 1;
    if (keep === 'first-of-year') {
      moved.month = 1;
      moved.day = 1;
    }
    return moved;
  }

  /** Whether the deadline has passed; looked at every CLOCK_EVERY calls only. */
  let clockCalls = 0;
  function pastDeadline(): boolean {
    return limits.deadline !== undefined && ++clockCalls % CLOCK_EVERY === 0 && performance.now() > limits.deadline;
  }

  /**
   * Members of a SECONDLY/MINUTELY/HOURLY rule by arithmetic (subdaily-rule.ts). Without COUNT they start
   * at the first member not before the target; with COUNT (DTSTART counts as the first, RFC 5545
   * §3.3.10) a plain rule jumps to its k-th member and any other is counted from DTSTART.
   */
  function arithmeticDraw(rule: ICAL.Recur, calc: SubDailyRule): () => ICAL.Time | null {
    const target = targetWallSeconds();
    const count = rule.count;
    if (count === null) {
      let next = Math.max(calc.start, target ?? -Infinity);
      return () => {
        const member = calc.firstAtOrAfter(next);
        if (member === null) return null;
        next = member + 1;
        return fromWallSeconds(member, iterationStart.zone);
      };
    }
    const step = calc.plainStep;
    if (step !== null) {
      let k = target === null ? 0 : Math.max(0, Math.ceil((target - calc.start) / step));
      return () => {
        if (k >= count) return null;
        const member = calc.firstAtOrAfter(calc.start + k * step);
        k++;
        return member === null ? null : fromWallSeconds(member, iterationStart.zone);
      };
    }
    let produced = 0;
    let next = calc.start;
    return () => {
      if (produced >= count) return null;
      const member = produced === 0 ? calc.start : calc.firstAtOrAfter(next);
      if (member === null) return null;
      produced++;
      next = member + 1;
      return fromWallSeconds(member, iterationStart.zone);
    };
  }

  function openRule(rule: ICAL.Recur): RuleSource | null {
    try {
      const wallRule = wallClockRule(rule);
      const calc = subDailyRule(wallRule, iterationStart, wallRule.until, budget);
      if (calc !== null) {
        const source: RuleSource = { rule, draw: arithmeticDraw(rule, calc), fresh: true, head: null };
        source.head = pull(source);
        return source;
      }
      const iterator = wallRule.iterator(fastForwardStart(rule) ?? iterationStart);
      const check = iterator.check_contracting_rules.bind(iterator);
      iterator.check_contracting_rules = () => {
        if (--budget.steps < 0 || pastDeadline()) throw BUDGET_EXCEEDED;
        return check();
      };
      const source: RuleSource = { rule, draw: () => iterator.next(), fresh: false, head: null };
      source.head = pull(source);
      return source;
    } catch (error) {
      // An unusable rule is refused when the object is stored; here it adds nothing (conservatively marked).
      stoppedBy = isBudgetError(error) ? 'budget' : 'error';
      return null;
    }
  }

  function pull(source: RuleSource): SetMember | null {
    for (;;) {
      if (iterations >= maxIterations) {
        stoppedBy ??= 'instances';
        return null;
      }
      if (pastDeadline()) {
        stoppedBy ??= 'budget';
        return null;
      }
      let time: ICAL.Time | null;
      try {
        time = source.draw();
      } catch (error) {
        stoppedBy ??= isBudgetError(error) ? 'budget' : 'error';
        return null;
      }
      if (time === null) return null;
      iterations++;
      if (!satisfiesRule(time, source.rule)) continue;
      const member = source.fresh ? time : time.clone();
      if (ruleZone !== null) member.zone = ruleZone;
      return { time: member, ms: toUtcMs(member, zone) };
    }
  }
  const rules: RuleSource[] = [];
  for (const property of master.getAllProperties('rrule')) {
    const rule = property.getFirstValue();
    if (!(rule instanceof ICAL.Recur)) continue;
    const source = openRule(rule);
    if (source !== null) rules.push(source);
  }

  function take(): SetMember | null {
    let best: SetMember | null = first;
    let from: 'first' | 'rdate' | RuleSource = 'first';
    const rdate = rdates[rdateIndex];
    if (rdate !== undefined && (best === null || rdate.ms < best.ms)) {
      best = rdate;
      from = 'rdate';
    }
    for (const source of rules) {
      if (source.head !== null && (best === null || source.head.ms < best.ms)) {
        best = source.head;
        from = source;
      }
    }
    if (from === 'first') first = null;
    else if (from === 'rdate') rdateIndex++;
    else from.head = pull(from);
    return best;
  }

  return {
    next(): SetMember | null {
      for (;;) {
        const member = take();
        if (member === null) return null;
        if (member.ms === lastMs) continue;
        lastMs = member.ms;
        if (excludedMs.has(member.ms) || excludedDates.has(dateKey(member.time))) continue;
        return member;
      }
    },
    get truncated(): boolean {
      return stoppedBy !== null;
    },
    get stoppedBy(): RecurrenceSet['stoppedBy'] {
      return stoppedBy;
    },
  };
}

function isBudgetError(error: unknown): boolean {
  return error === BUDGET_EXCEEDED || error === SUBDAILY_BUDGET_EXCEEDED;
}

function dateKey(time: ICAL.Time): string {
  return `${time.year}-${time.month}-${time.day}`;
}
