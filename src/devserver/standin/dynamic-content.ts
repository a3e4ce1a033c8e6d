/**
 * Dynamic web content (docs/protocol.md §8, §10.14): items per slot with contact filters, created through
 * `POST /api/dynamiccontents/new` (api_dynamiccontents_new) or preloaded by the `dynamicContent`
 * option, and rendered for `GET /dwc/{slot}` with `{contactfield=…}` tokens filled in.
 */
import type { ContactStore } from './contact-store.js';
import { jsonReply } from './reply.js';
import { ValidationError, truthy, type ApiRouter, type HandlerResult, type RestDeps } from './rest-support.js';
import type { Contact, DynamicContentFilter, DynamicContentInput } from './types.js';

export interface DynamicContentItem {
  id: number;
  name: string;
  slotName: string;
  content: string;
  isPublished: boolean;
  isCampaignBased: boolean;
  filters: DynamicContentFilter[];
  dateAdded: string;
}

/** What a visitor is matched against; a visitor nobody recognises has no fields. */
export interface DynamicContentSubject {
  fields: Record<string, string>;
  company: Record<string, string>;
}

const NOBODY: DynamicContentSubject = { fields: {}, company: {} };
const MAX_ITEMS = 1000;
const MAX_FILTERS = 50;

export class DynamicContentStore {
  private items: DynamicContentItem[] = [];
  private nextId = 1;

  constructor(
    private readonly now: () => string,
    private readonly preload: readonly DynamicContentInput[] = [],
  ) {
    this.reset();
  }

  add(input: DynamicContentInput): DynamicContentItem {
    if (this.items.length >= MAX_ITEMS) throw new RangeError(`at most ${MAX_ITEMS} dynamic content items`);
    const item: DynamicContentItem = {
      id: this.nextId++,
      name: input.name ?? input.slotName,
      slotName: input.slotName,
      content: input.content,
      isPublished: input.isPublished ?? true,
      isCampaignBased: input.isCampaignBased ?? false,
      filters: (input.filters ?? []).map((filter) => ({ ...filter })),
      dateAdded: this.now(),
    };
    this.items.push(item);
    return item;
  }

  /** Back to the preloaded items only, ids from 1 (a fresh database, like the contacts). */
  reset(): void {
    this.items = [];
    this.nextId = 1;
    for (const input of this.preload) this.add(input);
  }

  /**
   * The content of the first (oldest) published, slot-based item for `slot` whose filters the
   * visitor matches, with its tokens filled in; undefined when none does (Mautic answers 204).
   */
  render(slot: string, contact: Contact | undefined): string | undefined {
    const subject: DynamicContentSubject = contact ?? NOBODY;
    const item = this.items.find(
      (candidate) =>
        candidate.isPublished && !candidate.isCampaignBased && candidate.slotName === slot && matchesFilters(candidate.filters, subject),
    );
    return item ? fillTokens(item.content, subject) : undefined;
  }
}

/**
 * One store per contact store: lets the REST routes reach the store the server created through
 * the `ContactStore` in their deps, without widening `RestDeps` for one resource.
 */
const stores = new WeakMap<ContactStore, DynamicContentStore>();

export function attachDynamicContent(contacts: ContactStore, store: DynamicContentStore): void {
  stores.set(contacts, store);
}

export function dynamicContentOf(contacts: ContactStore): DynamicContentStore {
  let store = stores.get(contacts);
  if (!store) {
    store = new DynamicContentStore(() => new Date().toISOString());
    stores.set(contacts, store);
  }
  return store;
}

/** `{contactfield=alias}` or `{contactfield=alias|default}`; unknown or empty fields give the default. */
export function fillTokens(content: string, subject: DynamicContentSubject): string {
  return content.replace(/\{contactfield=([A-Za-z0-9_]+)(?:\|([^}]*))?\}/g, (_token, alias: string, fallback?: string) => {
    const value = subject.fields[alias.toLowerCase()] ?? '';
    return value !== '' ? value : (fallback ?? '');
  });
}

/** `glue: 'or'` starts a new group; a visitor matches when every filter of some group holds. */
export function matchesFilters(filters: readonly DynamicContentFilter[], subject: DynamicContentSubject): boolean {
  if (filters.length === 0) return true;
  const groups: DynamicContentFilter[][] = [];
  filters.forEach((filter, index) => {
    if (index === 0 || filter.glue === 'or') groups.push([filter]);
    else groups[groups.length - 1]?.push(filter);
  });
  return groups.some((group) => group.every((filter) => matchesFilter(filter, subject)));
}

function matchesFilter(filter: DynamicContentFilter, subject: DynamicContentSubject): boolean {
  const source = filter.object === 'company' ? subject.company : subject.fields;
  const value = (source[filter.field] ?? '').trim().toLowerCase();
  const wanted = filter.filter === null || filter.filter === undefined ? '' : String(filter.filter).trim().toLowerCase();
  switch (filter.operator) {
    case 'empty':
      return value === '';
    case '!empty':
      return value !== '';
    case '=':
      return value === wanted;
    case '!=':
      return value !== wanted;
    case 'like':
      return value.includes(wanted.replace(/%/g, ''));
    case '!like':
      return !value.includes(wanted.replace(/%/g, ''));
    case 'contains':
      return value.includes(wanted);
    case 'startsWith':
      return value.startsWith(wanted);
    case 'endsWith':
      return value.endsWith(wanted);
    default:
      // An operator the stand-in does not model never matches: content shows to nobody rather than everybody.
      return false;
  }
}

/**
 * `POST /api/dynamiccontents/new`: 201 with the item in Mautic's shape and a relative Location.
 * Mautic's API stores the content with HTML tags stripped (`<p>Hello …</p>` → `Hello …`), as recorded.
 */
export function registerDynamicContentRoutes(router: ApiRouter, deps: RestDeps): void {
  router.add('POST', '/api/dynamiccontents/new', {
    operation: 'dynamiccontent.new',
    handler: (_ctx, _params, data) => createDynamicContentFromApi(deps.store, data),
  });
}

function createDynamicContentFromApi(contacts: ContactStore, data: unknown): HandlerResult {
  const parsed = parseInput(data);
  let item: DynamicContentItem;
  try {
    item = dynamicContentOf(contacts).add({ ...parsed, content: stripTags(parsed.content) });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ValidationError({ body: [error.message] });
  }
  return {
    reply: jsonReply(201, { dynamicContent: itemJson(item) }, { Location: `/api/dynamiccontents/${item.id}` }),
    contactId: null,
  };
}

/** A validated input; throws Mautic's per-field 400 (`ValidationError`) otherwise. */
function parseInput(data: unknown): DynamicContentInput {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('body', 'A JSON object is required.');
  const body = data as Record<string, unknown>;
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (name === '') throw invalid('name', 'A name is required.');
  const slotName = typeof body.slotName === 'string' ? body.slotName.trim() : '';
  const content = typeof body.content === 'string' ? body.content : '';
  const filters: DynamicContentFilter[] = [];
  if (body.filters !== undefined && body.filters !== null) {
    if (!Array.isArray(body.filters) || body.filters.length > MAX_FILTERS) {
      throw invalid('filters', `A list of at most ${MAX_FILTERS} filters is required.`);
    }
    for (const raw of body.filters) {
      const filter = parseFilter(raw);
      if (!filter) throw invalid('filters', 'Each filter needs a field and an operator.');
      filters.push(filter);
    }
  }
  return {
    name,
    slotName,
    content,
    isPublished: body.isPublished !== false && body.isPublished !== 0 && body.isPublished !== '0',
    isCampaignBased: truthy(body.isCampaignBased),
    filters,
  };
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError({ [field]: [message] });
}

function parseFilter(raw: unknown): DynamicContentFilter | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const entry = raw as Record<string, unknown>;
  if (typeof entry.field !== 'string' || entry.field === '' || typeof entry.operator !== 'string') return undefined;
  const filter: DynamicContentFilter = {
    glue: entry.glue === 'or' ? 'or' : 'and',
    field: entry.field,
    object: entry.object === 'company' ? 'company' : 'lead',
    type: typeof entry.type === 'string' ? entry.type : 'text',
    filter: typeof entry.filter === 'string' || typeof entry.filter === 'number' ? entry.filter : null,
    display: typeof entry.display === 'string' ? entry.display : null,
    operator: entry.operator,
  };
  return filter;
}

function stripTags(html: string): string {
  return html.replace(/<[^>]*>/g, '');
}

/** Mautic's `dynamicContent` entity JSON (keys and value types as recorded). */
function itemJson(item: DynamicContentItem): Record<string, unknown> {
  return {
    isPublished: item.isPublished,
    dateAdded: item.dateAdded.replace(/\.\d{3}Z$/, '+00:00'),
    dateModified: null,
    createdBy: null,
    createdByUser: 'API',
    modifiedBy: null,
    modifiedByUser: null,
    id: item.id,
    name: item.name,
    category: null,
    publishUp: null,
    publishDown: null,
    sentCount: 0,
    variantParent: null,
    variantChildren: [],
    content: item.content,
    utmTags: { utmSource: null, utmMedium: null, utmCampaign: null, utmContent: null },
    filters: item.filters.map((filter) => ({
      glue: filter.glue ?? 'and',
      field: filter.field,
      object: filter.object ?? 'lead',
      type: filter.type ?? 'text',
      filter: filter.filter ?? null,
      display: filter.display ?? null,
      operator: filter.operator,
    })),
    isCampaignBased: item.isCampaignBased,
    slotName: item.slotName,
  };
}
