/**
 * Segments (Mautic's "lists"): created through `POST /api/segments/new`, read by id, and the
 * membership calls, which need both the segment and the contact to exist (docs/protocol.md §10.8).
 */
import { jsonReply, type RequestContext } from './reply.js';
import {
  contactById,
  contactNotFound,
  notFound,
  pathId,
  requireObject,
  ValidationError,
  type ApiRouter,
  type HandlerResult,
  type RestDeps,
} from './rest-support.js';

export interface Segment {
  id: number;
  name: string;
  alias: string;
  publicName: string;
  description: string | null;
  isGlobal: boolean;
  isPreferenceCenter: boolean;
  createdAt: string;
  createdByUser: string | null;
}

/** Segments preloaded by the `segments` option: created as by an admin before the stand-in started. */
export interface SegmentSeed {
  name: string;
  alias?: string;
}

export class SegmentStore {
  private segments = new Map<number, Segment>();
  private nextId = 1;

  constructor(private readonly seeds: readonly SegmentSeed[] = []) {
    this.clear();
  }

  create(input: { name: string; alias?: string; publicName?: string; description?: string | null; isGlobal?: boolean; isPreferenceCenter?: boolean }, at: string, user: string | null): Segment {
    const segment: Segment = {
      id: this.nextId++,
      name: input.name,
      alias: input.alias ?? slug(input.name),
      publicName: input.publicName ?? input.name,
      description: input.description ?? null,
      isGlobal: input.isGlobal ?? true,
      isPreferenceCenter: input.isPreferenceCenter ?? false,
      createdAt: at,
      createdByUser: user,
    };
    this.segments.set(segment.id, segment);
    return segment;
  }

  get(id: number): Segment | undefined {
    return this.segments.get(id);
  }

  clear(): void {
    this.segments.clear();
    this.nextId = 1;
    const at = new Date(0).toISOString();
    for (const seed of this.seeds) this.create(seed, at, null);
  }
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'segment';
}

function segmentJson(segment: Segment): Record<string, unknown> {
  return {
    isPublished: true,
    dateAdded: segment.createdAt.replace(/\.\d{3}Z$/, '+00:00'),
    dateModified: null,
    createdBy: null,
    createdByUser: segment.createdByUser,
    modifiedBy: null,
    modifiedByUser: null,
    id: segment.id,
    name: segment.name,
    publicName: segment.publicName,
    alias: segment.alias,
    description: segment.description,
    category: null,
    filters: [],
    isGlobal: segment.isGlobal,
    isPreferenceCenter: segment.isPreferenceCenter,
  };
}

export function registerSegmentRoutes(router: ApiRouter, deps: RestDeps, segments: SegmentStore): void {
  const resource = new SegmentResource(deps, segments);
  router
    .add('POST', '/api/segments/new', { operation: 'segment.new', handler: (ctx, _p, data) => resource.create(ctx, data) })
    .add('GET', '/api/segments/{sid}', { operation: 'segment.get', handler: (_ctx, p) => resource.get(p) })
    .add('POST', '/api/segments/{sid}/contact/{id}/add', { operation: 'segment.add', handler: (_ctx, p) => resource.membership(p, 'add') })
    .add('POST', '/api/segments/{sid}/contact/{id}/remove', { operation: 'segment.remove', handler: (_ctx, p) => resource.membership(p, 'remove') });
}

class SegmentResource {
  constructor(
    private readonly deps: RestDeps,
    private readonly segments: SegmentStore,
  ) {}

  create(ctx: RequestContext, data: unknown): HandlerResult {
    const payload = requireObject(data);
    const name = typeof payload.name === 'string' ? payload.name.trim() : '';
    if (name === '') throw new ValidationError({ name: ['A name is required.'] });
    const segment = this.segments.create(
      {
        name,
        ...(typeof payload.alias === 'string' && payload.alias !== '' ? { alias: payload.alias } : {}),
        ...(typeof payload.publicName === 'string' ? { publicName: payload.publicName } : {}),
        ...(typeof payload.description === 'string' ? { description: payload.description } : {}),
        ...(typeof payload.isGlobal === 'boolean' ? { isGlobal: payload.isGlobal } : {}),
      },
      new Date(ctx.nowMs).toISOString(),
      this.deps.store.currentUser(),
    );
    return { reply: jsonReply(201, { list: segmentJson(segment) }, { Location: `/api/segments/${segment.id}` }), contactId: null };
  }

  get(params: Record<string, string>): HandlerResult {
    const id = pathId(params.sid);
    const segment = id === undefined ? undefined : this.segments.get(id);
    return segment ? { reply: jsonReply(200, { list: segmentJson(segment) }), contactId: null } : notFound();
  }

  /** Adding a member twice is fine (200 again); the segment is checked before the contact. */
  membership(params: Record<string, string>, action: 'add' | 'remove'): HandlerResult {
    const { store } = this.deps;
    const id = pathId(params.sid);
    if (id === undefined || !this.segments.get(id)) return notFound();
    const contact = contactById(store, params.id);
    if (!contact) return contactNotFound();
    if (action === 'add' && !contact.segments.includes(id)) contact.segments.push(id);
    if (action === 'remove') contact.segments = contact.segments.filter((member) => member !== id);
    store.changed(contact);
    return { reply: jsonReply(200, { success: 1 }), contactId: contact.id };
  }
}

