/**
 * Microsoft Planner in the simulator: plans and buckets from `SimOptions.planner` (or one default
 * plan), and the tasks a ticket sink creates and updates (reference/graph/17-planner.json):
 *
 * - `POST /planner/tasks` → 201 with the new plannerTask;
 * - `GET|PATCH /planner/tasks/{id}` and `GET|PATCH /planner/tasks/{id}/details`, PATCH requiring
 *   `If-Match` with the resource's current etag (400 without it, 412 when stale), answering 204,
 *   or 200 with the updated object under `Prefer: return=representation`;
 * - `GET /planner/plans/{id}/buckets` and `GET /planner/plans/{id}/tasks` ("List tasks"; the
 *   lists themselves are served by routes.ts).
 *
 * Etags are `W/"<base64>"` like the docs' (`'1-Task  @@@…X'` inside) and grow in ordinal string
 * order with every write, as the overview says clients may rely on; they come from one counter
 * shared by every resource, so no two resources (or versions) ever have the same etag.
 */
import { randomBytes } from 'node:crypto';
import type { Json, JsonObject } from './tenant';
import type { EndpointName, SimPlannerPlan, SimRequest, SimResponse } from './types';
import { graphError, jsonOk } from './responses';

/** The plan, and its one bucket, the simulator creates when `SimOptions.planner` is absent. */
export const DEFAULT_PLANNER_PLAN_ID = 'simPlan0000000000000000000000';
export const DEFAULT_PLANNER_PLAN_TITLE = 'm365-audit 是正';
export const DEFAULT_PLANNER_BUCKET_ID = 'simBucket00000000000000000000';
export const DEFAULT_PLANNER_BUCKET_NAME = '未対応';

/**
 * The user every write is attributed to (`createdBy`, `assignedBy`, `completedBy`,
 * `lastModifiedBy`): the simulator cannot tell callers apart, its bearer tokens being opaque.
 */
export const PLANNER_CALLER_ID = '00000000-0000-0000-0000-00000000c0de';

/** Service limits (planner-overview.md lists the 403 codes; the numbers are Planner's documented limits). */
const MAX_ASSIGNEES = 20;
const MAX_CHECKLIST_ITEMS = 20;
const MAX_REFERENCES = 10;
const MAX_TITLE_LENGTH = 255;

const PREVIEW_TYPES = ['automatic', 'noPreview', 'checklist', 'description', 'reference'];

// ---------------------------------------------------------------------------------------------
// Etags, ids, hints, dates

type EtagKind = 'task' | 'details' | 'bucket';

/** Text before the version digits; 9 or 15 bytes, so the digits start on a base64 group boundary. */
const ETAG_PREFIX: Record<EtagKind, string> = { task: "'1-Task  ", details: "'1-TaskDetails ", bucket: "'1-Bucket" };
const ETAG_DIGITS = 5;
const ETAG_BASE = 52;

/**
 * `W/"…"` around base64 of `'1-Task  ` + five groups `@@<digit>` + `X'`. A digit d is the byte
 * 0x40+d (d < 52), which base64 writes as the single character A–Z, a–z at the group's last
 * position: those run upwards in ASCII, so a bigger version is a greater string, character by
 * character, while the rest of the etag stays the same.
 */
export function plannerEtag(kind: EtagKind, version: number): string {
  let v = version;
  const digits: number[] = [];
  for (let i = 0; i < ETAG_DIGITS; i++) {
    digits.unshift(v % ETAG_BASE);
    v = Math.floor(v / ETAG_BASE);
  }
  if (v > 0) throw new Error(`planner etag version ${version} out of range`);
  const text = ETAG_PREFIX[kind] + digits.map((d) => `@@${String.fromCharCode(0x40 + d)}`).join('') + "X'";
  return `W/"${Buffer.from(text, 'latin1').toString('base64')}"`;
}

/** A 28-character base64url id, like the docs' `01gzSlKkIUSUl6DF_EilrmQAKDhh`. */
function newPlannerId(): string {
  return randomBytes(21).toString('base64url');
}

/** Planner's timestamps carry 7 fractional digits (`2015-03-25T18:36:49.2407981Z`). */
function plannerNow(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** An OData DateTimeOffset: date, time and an explicit zone; returned in UTC. */
const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function normaliseDate(raw: string): string | undefined {
  if (!DATE_TIME_OFFSET.test(raw)) return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso.replace(/\.(\d{3})Z$/, '.$10000Z');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Instance annotations (`@odata.type`, `@odata.etag` of an object read back) are not properties. */
function isAnnotation(key: string): boolean {
  return key.includes('@');
}

function odataTypeOk(value: unknown, type: string): boolean {
  return value === undefined || (typeof value === 'string' && value.replace(/^#/, '').toLowerCase() === `microsoft.graph.${type}`.toLowerCase());
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function by(userId: string): JsonObject {
  return { user: { id: userId } };
}

// ---------------------------------------------------------------------------------------------
// Store

interface TaskRecord {
  task: JsonObject;
  details: JsonObject;
  taskVersion: number;
  detailsVersion: number;
}

interface BucketRecord {
  bucket: JsonObject;
  version: number;
}

/** Validation failure: status, code and message of the Graph error to answer. */
interface Failure {
  status: number;
  code: string;
  message: string;
}

function bad(message: string, code = 'BadRequest'): Failure {
  return { status: 400, code, message };
}

function unknownProperty(name: string, type: string): Failure {
  return bad(`The property '${name}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type.`);
}

function isFailure(v: unknown): v is Failure {
  return isObject(v) && typeof v.status === 'number' && typeof v.code === 'string' && typeof v.message === 'string';
}

/** The planner state of one simulator: configured plans and buckets, created tasks. */
export class PlannerStore {
  private readonly plans: SimPlannerPlan[];
  private readonly buckets = new Map<string, BucketRecord[]>();
  private readonly tasks = new Map<string, TaskRecord>();
  /** Every write takes the next version, whatever the resource: etags never repeat. */
  private clock = 0;
  private hints = 0;

  constructor(config?: { plans: SimPlannerPlan[] }) {
    this.plans = clone(
      config?.plans ?? [{ id: DEFAULT_PLANNER_PLAN_ID, title: DEFAULT_PLANNER_PLAN_TITLE, buckets: [{ id: DEFAULT_PLANNER_BUCKET_ID, name: DEFAULT_PLANNER_BUCKET_NAME }] }],
    );
    for (const plan of this.plans) {
      // Buckets keep their configured order; their hints rise with it.
      this.buckets.set(
        plan.id,
        plan.buckets.map((b, i) => ({
          bucket: { name: b.name, planId: plan.id, orderHint: `${85752723360752 + i * 1000}+`, id: b.id },
          version: this.tick(),
        })),
      );
    }
  }

  private tick(): number {
    this.clock += 1;
    return this.clock;
  }

  /** A service-chosen order hint; later ones sort first (new tasks show on top). */
  private hint(): string {
    this.hints += 1;
    return `${8585000000000 - this.hints}P!`;
  }

  /** The configured plans (copies). */
  planList(): SimPlannerPlan[] {
    return clone(this.plans);
  }

  /** The buckets of a plan as Graph lists them, or undefined for an unknown plan. */
  bucketsOf(planId: string): JsonObject[] | undefined {
    const records = this.buckets.get(planId);
    return records?.map((r) => ({ '@odata.etag': plannerEtag('bucket', r.version), ...r.bucket }));
  }

  /** The tasks of a plan as `GET /planner/plans/{id}/tasks` lists them (creation order), or undefined for an unknown plan. */
  tasksOf(planId: string): JsonObject[] | undefined {
    if (!this.plans.some((p) => p.id === planId)) return undefined;
    return [...this.tasks.values()].filter((r) => r.task.planId === planId).map((r) => this.taskBody(r));
  }

  /** Every task created, in creation order, each with its current details (copies). */
  snapshot(): Array<{ task: JsonObject; details: JsonObject }> {
    return [...this.tasks.values()].map((r) => ({ task: this.taskBody(r), details: this.detailsBody(r) }));
  }

  private taskBody(r: TaskRecord): JsonObject {
    return { '@odata.etag': plannerEtag('task', r.taskVersion), ...clone(r.task) };
  }

  private detailsBody(r: TaskRecord): JsonObject {
    return { '@odata.etag': plannerEtag('details', r.detailsVersion), ...clone(r.details) };
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  handle(req: SimRequest, endpoint: EndpointName, params: Record<string, string>): SimResponse {
    if (endpoint === 'plannerTasks') return this.createTask(req);
    const record = this.tasks.get(params.taskId ?? '');
    if (!record) return graphError(req, 404, 'itemNotFound', 'The requested item is not found.');
    const details = endpoint === 'plannerTaskDetails';
    if (req.method === 'GET') return jsonOk(details ? this.detailsBody(record) : this.taskBody(record));
    // PATCH
    const current = details ? plannerEtag('details', record.detailsVersion) : plannerEtag('task', record.taskVersion);
    const ifMatch = req.headers['if-match'];
    if (ifMatch === undefined || ifMatch.trim() === '') {
      return graphError(req, 400, 'MissingIfMatchHeader', 'The If-Match header must be specified for this kind of request.');
    }
    if (ifMatch.trim() !== current) {
      return graphError(req, 412, 'PreconditionFailed', 'The request is not valid with the current state of the resource: the If-Match etag is not the current one.');
    }
    if (!isObject(req.body)) return graphError(req, 400, 'BadRequest', 'The request body must be a JSON object.');
    const failure = details ? this.patchDetails(record, req.body) : this.patchTask(record, req.body);
    if (failure) return graphError(req, failure.status, failure.code, failure.message);
    if (!prefersRepresentation(req)) return { status: 204, headers: { 'Cache-Control': 'no-cache' } };
    const res = jsonOk(details ? this.detailsBody(record) : this.taskBody(record));
    res.headers['Preference-Applied'] = 'return=representation';
    return res;
  }

  private createTask(req: SimRequest): SimResponse {
    const body = req.body;
    if (!isObject(body)) return graphError(req, 400, 'BadRequest', 'The request body must be a JSON object.');
    const planId = body.planId;
    if (typeof planId !== 'string' || planId === '') return graphError(req, 400, 'BadRequest', "A value must be specified for the property 'planId'.");
    const plan = this.plans.find((p) => p.id === planId);
    if (!plan) return graphError(req, 400, 'BadRequest', `The plan '${planId}' does not exist or is not accessible: planId must be the id of an existing plannerPlan.`);
    if (body.title === undefined || body.title === null) {
      return graphError(req, 400, 'BadRequest', "Schema validation has failed. Validation for field 'Title', on entity 'Task' has failed: A non-null value must be specified for this field.");
    }
    const now = plannerNow();
    const id = newPlannerId();
    const task: JsonObject = {
      planId,
      bucketId: null,
      title: '',
      orderHint: this.hint(),
      assigneePriority: '',
      percentComplete: 0,
      startDateTime: null,
      createdDateTime: now,
      dueDateTime: null,
      hasDescription: false,
      previewType: 'automatic',
      completedDateTime: null,
      completedBy: null,
      referenceCount: 0,
      checklistItemCount: 0,
      activeChecklistItemCount: 0,
      conversationThreadId: null,
      priority: 5,
      id,
      createdBy: by(PLANNER_CALLER_ID),
      appliedCategories: {},
      assignments: {},
    };
    const failure = this.applyTaskChanges(task, body, now);
    if (failure) return graphError(req, failure.status, failure.code, failure.message);
    const record: TaskRecord = {
      task,
      details: { description: '', previewType: 'automatic', id, references: {}, checklist: {} },
      taskVersion: this.tick(),
      detailsVersion: this.tick(),
    };
    this.tasks.set(id, record);
    return jsonOk(this.taskBody(record), 201);
  }

  private patchTask(record: TaskRecord, body: Record<string, unknown>): Failure | undefined {
    const next = clone(record.task);
    const failure = this.applyTaskChanges(next, body, plannerNow());
    if (failure) return failure;
    record.task = next;
    record.taskVersion = this.tick();
    return undefined;
  }

  /** Writes the body's properties into `task` (a draft: on failure the caller drops it). */
  private applyTaskChanges(task: JsonObject, body: Record<string, unknown>, now: string): Failure | undefined {
    const planId = String(task.planId);
    for (const [key, value] of Object.entries(body)) {
      if (isAnnotation(key)) continue;
      switch (key) {
        case 'planId':
          if (value !== planId) return bad('Moving a task to another plan is not supported by the simulator.');
          break;
        case 'title':
          if (typeof value !== 'string' || value.trim() === '') return bad("Schema validation has failed. Validation for field 'Title', on entity 'Task' has failed: A non-null value must be specified for this field.");
          if (value.length > MAX_TITLE_LENGTH) return bad(`The title is longer than ${MAX_TITLE_LENGTH} characters.`);
          task.title = value;
          break;
        case 'bucketId': {
          if (value === null) {
            task.bucketId = null;
            break;
          }
          const buckets = this.buckets.get(planId) ?? [];
          if (typeof value !== 'string' || !buckets.some((b) => b.bucket.id === value)) {
            return bad(`The bucket '${String(value)}' does not belong to the plan '${planId}'.`);
          }
          task.bucketId = value;
          break;
        }
        case 'percentComplete': {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
            return bad('percentComplete must be an integer from 0 to 100.');
          }
          const wasDone = task.percentComplete === 100;
          task.percentComplete = value;
          if (value === 100 && !wasDone) {
            task.completedDateTime = now;
            task.completedBy = by(PLANNER_CALLER_ID);
          } else if (value < 100) {
            task.completedDateTime = null;
            task.completedBy = null;
          }
          break;
        }
        case 'priority':
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10) return bad('priority must be an integer from 0 to 10.');
          task.priority = value;
          break;
        case 'startDateTime':
        case 'dueDateTime': {
          if (value === null) {
            task[key] = null;
            break;
          }
          const date = typeof value === 'string' ? normaliseDate(value) : undefined;
          if (date === undefined) return bad(`Cannot convert the literal '${String(value)}' to the expected type 'Edm.DateTimeOffset'.`);
          task[key] = date;
          break;
        }
        case 'orderHint':
        case 'assigneePriority':
          // The client sends a hint ("<before> <after>!"); the service stores a value of its own.
          if (typeof value !== 'string') return bad(`${key} must be a string.`);
          task[key] = this.hint();
          break;
        case 'previewType':
          if (typeof value !== 'string' || !PREVIEW_TYPES.includes(value)) return bad(`'${String(value)}' is not a valid plannerPreviewType.`);
          task.previewType = value;
          break;
        case 'conversationThreadId':
          if (value !== null && typeof value !== 'string') return bad('conversationThreadId must be a string.');
          task.conversationThreadId = value;
          break;
        case 'appliedCategories': {
          if (!isObject(value)) return bad('appliedCategories must be an object.');
          const cats = clone(task.appliedCategories) as JsonObject;
          for (const [cat, on] of Object.entries(value)) {
            if (isAnnotation(cat)) continue;
            if (!/^category([1-9]|1\d|2[0-5])$/.test(cat)) return unknownProperty(cat, 'plannerAppliedCategories');
            if (on === true) cats[cat] = true;
            else if (on === false || on === null) delete cats[cat];
            else return bad(`${cat} must be a boolean.`);
          }
          task.appliedCategories = cats;
          break;
        }
        case 'assignments': {
          const failure = this.applyAssignments(task, value, now);
          if (failure) return failure;
          break;
        }
        // Read-only properties: ignored, as the service computes them.
        case 'id':
        case 'createdBy':
        case 'createdDateTime':
        case 'completedBy':
        case 'completedDateTime':
        case 'hasDescription':
        case 'referenceCount':
        case 'checklistItemCount':
        case 'activeChecklistItemCount':
          break;
        default:
          return unknownProperty(key, 'plannerTask');
      }
    }
    return undefined;
  }

  /** Assignments are an open map keyed by user id: merged, `null` removes one. */
  private applyAssignments(task: JsonObject, value: unknown, now: string): Failure | undefined {
    if (!isObject(value)) return bad('assignments must be an object keyed by user id.');
    const current = clone(task.assignments) as Record<string, Json>;
    for (const [userId, a] of Object.entries(value)) {
      if (isAnnotation(userId)) continue;
      if (a === null) {
        delete current[userId];
        continue;
      }
      if (!isObject(a) || !odataTypeOk(a['@odata.type'], 'plannerAssignment') || a['@odata.type'] === undefined) {
        // planner-overview.md: complex values of open types must declare their @odata.type.
        return bad(`The assignment for '${userId}' must be an object with "@odata.type": "#microsoft.graph.plannerAssignment".`);
      }
      for (const k of Object.keys(a)) {
        if (!isAnnotation(k) && !['orderHint', 'assignedBy', 'assignedDateTime'].includes(k)) return unknownProperty(k, 'plannerAssignment');
      }
      if (a.orderHint !== undefined && typeof a.orderHint !== 'string') return bad('orderHint must be a string.');
      const existing = current[userId];
      if (isObject(existing)) {
        if (a.orderHint !== undefined) current[userId] = { ...existing, orderHint: this.hint() };
      } else {
        current[userId] = {
          '@odata.type': '#microsoft.graph.plannerAssignment',
          assignedBy: by(PLANNER_CALLER_ID),
          assignedDateTime: now,
          orderHint: this.hint(),
        };
      }
    }
    if (Object.keys(current).length > MAX_ASSIGNEES) {
      return { status: 403, code: 'MaximumAssigneesInTasks', message: `A task can have at most ${MAX_ASSIGNEES} assignees.` };
    }
    task.assignments = current;
    return undefined;
  }

  private patchDetails(record: TaskRecord, body: Record<string, unknown>): Failure | undefined {
    const next = clone(record.details);
    const now = plannerNow();
    for (const [key, value] of Object.entries(body)) {
      if (isAnnotation(key)) continue;
      switch (key) {
        case 'description':
          if (value !== null && typeof value !== 'string') return bad('description must be a string.');
          next.description = value ?? '';
          break;
        case 'previewType':
          if (typeof value !== 'string' || !PREVIEW_TYPES.includes(value)) return bad(`'${String(value)}' is not a valid plannerPreviewType.`);
          next.previewType = value;
          break;
        case 'references': {
          const refs = this.mergeReferences(next.references, value, now);
          if (isFailure(refs)) return refs;
          next.references = refs;
          break;
        }
        case 'checklist': {
          const list = this.mergeChecklist(next.checklist, value, now);
          if (isFailure(list)) return list;
          next.checklist = list;
          break;
        }
        case 'id':
          break;
        default:
          return unknownProperty(key, 'plannerTaskDetails');
      }
    }
    record.details = next;
    record.detailsVersion = this.tick();
    // The task's summary of its details follows (its own etag does not move: only its own writes bump it).
    const checklist = Object.values(next.checklist as JsonObject);
    record.task.hasDescription = typeof next.description === 'string' && next.description !== '';
    record.task.referenceCount = Object.keys(next.references as JsonObject).length;
    record.task.checklistItemCount = checklist.length;
    record.task.activeChecklistItemCount = checklist.filter((c) => !(isObject(c) && c.isChecked === true)).length;
    return undefined;
  }

  /** references: keyed by the URL-encoded URL, merged; `null` removes one. */
  private mergeReferences(existing: Json | undefined, value: unknown, now: string): JsonObject | Failure {
    if (!isObject(value)) return bad('references must be an object keyed by encoded URL.');
    const out = clone(isObject(existing) ? existing : {}) as JsonObject;
    for (const [url, ref] of Object.entries(value)) {
      if (url.startsWith('@odata.')) continue;
      if (ref === null) {
        delete out[url];
        continue;
      }
      // The key is a property name: '.', ':', '@' and '#' must come percent-encoded (%2E, %3A…).
      if (url === '' || /[.:@#]/.test(url)) return bad(`The reference key '${url}' must be the URL-encoded URL (%3A for ':', %2E for '.').`);
      if (!isObject(ref) || !odataTypeOk(ref['@odata.type'], 'plannerExternalReference')) return bad(`The reference '${url}' must be a plannerExternalReference object.`);
      const prev = out[url];
      const item: JsonObject = isObject(prev) ? { ...prev } : { '@odata.type': '#microsoft.graph.plannerExternalReference', alias: null, type: null, previewPriority: this.hint() };
      for (const [k, v] of Object.entries(ref)) {
        if (isAnnotation(k)) continue;
        if (k === 'alias' || k === 'type') {
          if (v !== null && typeof v !== 'string') return bad(`${k} must be a string.`);
          item[k] = v;
        } else if (k === 'previewPriority') {
          if (typeof v !== 'string') return bad('previewPriority must be a string.');
          item.previewPriority = this.hint();
        } else if (k !== 'lastModifiedBy' && k !== 'lastModifiedDateTime') return unknownProperty(k, 'plannerExternalReference');
      }
      item.lastModifiedBy = by(PLANNER_CALLER_ID);
      item.lastModifiedDateTime = now;
      out[url] = item;
    }
    if (Object.keys(out).length > MAX_REFERENCES) {
      return { status: 403, code: 'MaximumReferencesOnTask', message: `A task can have at most ${MAX_REFERENCES} references.` };
    }
    return out;
  }

  /** checklist: keyed by a client-chosen id, merged; `null` removes one; a new item needs a title. */
  private mergeChecklist(existing: Json | undefined, value: unknown, now: string): JsonObject | Failure {
    if (!isObject(value)) return bad('checklist must be an object keyed by item id.');
    const out = clone(isObject(existing) ? existing : {}) as JsonObject;
    for (const [key, entry] of Object.entries(value)) {
      if (key.startsWith('@odata.')) continue;
      if (entry === null) {
        delete out[key];
        continue;
      }
      if (key === '') return bad('A checklist item key must not be empty.');
      if (!isObject(entry) || !odataTypeOk(entry['@odata.type'], 'plannerChecklistItem')) return bad(`The checklist item '${key}' must be a plannerChecklistItem object.`);
      const prev = out[key];
      const item: JsonObject = isObject(prev) ? { ...prev } : { '@odata.type': '#microsoft.graph.plannerChecklistItem', isChecked: false, title: null, orderHint: this.hint() };
      for (const [k, v] of Object.entries(entry)) {
        if (isAnnotation(k)) continue;
        if (k === 'title') {
          if (typeof v !== 'string') return bad('title must be a string.');
          item.title = v;
        } else if (k === 'isChecked') {
          if (typeof v !== 'boolean') return bad('isChecked must be a boolean.');
          item.isChecked = v;
        } else if (k === 'orderHint') {
          if (typeof v !== 'string') return bad('orderHint must be a string.');
          item.orderHint = this.hint();
        } else if (k !== 'lastModifiedBy' && k !== 'lastModifiedDateTime') return unknownProperty(k, 'plannerChecklistItem');
      }
      if (typeof item.title !== 'string' || item.title === '') return bad(`The new checklist item '${key}' needs a title.`);
      item.lastModifiedBy = by(PLANNER_CALLER_ID);
      item.lastModifiedDateTime = now;
      out[key] = item;
    }
    if (Object.keys(out).length > MAX_CHECKLIST_ITEMS) {
      return { status: 403, code: 'MaximumChecklistItemsOnTask', message: `A task can have at most ${MAX_CHECKLIST_ITEMS} checklist items.` };
    }
    return out;
  }
}

/** `Prefer: return=representation`, possibly among other preferences. */
function prefersRepresentation(req: SimRequest): boolean {
  return (req.headers.prefer ?? '')
    .split(',')
    .some((p) => p.trim().toLowerCase() === 'return=representation');
}
