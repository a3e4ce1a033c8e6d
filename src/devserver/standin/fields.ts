/**
 * Contact fields (Mautic's `lead_fields`): the core fields with Mautic's own ids
 * (field-definitions.ts), plus custom fields created through `POST /api/fields/contact/new`. Which
 * fields are unique identifiers and which are publicly updatable is read live by tracking, the REST
 * validator and form posts through {@link FieldRegistry.uniqueAliases} and
 * {@link FieldRegistry.publicAliases}.
 */
import { DEFAULT_FIELDS, type FieldDefinition, type FieldGroup } from './field-definitions.js';
import { phpSerialize } from './php-values.js';

/** A contact field as the registry keeps it: the definition plus what the fields API shows. */
export interface RegisteredField extends FieldDefinition {
  order: number;
  isPublished: boolean;
  isRequired: boolean;
  isListable: boolean;
  isVisible: boolean;
  isShortVisible: boolean;
  /** null for the core fields (Mautic's installer leaves their dates and users empty). */
  createdAt: string | null;
  updatedAt: string | null;
  createdByUser: string | null;
  modifiedByUser: string | null;
}

/** Ids 29–43 are Mautic's company fields; the first custom contact field gets 44 (recorded). */
export const FIRST_CUSTOM_ID = 44;

export const FIELD_TYPES = new Set([
  'text', 'textarea', 'email', 'tel', 'url', 'number', 'boolean', 'date', 'datetime', 'time', 'select',
  'multiselect', 'lookup', 'country', 'region', 'locale', 'timezone', 'html',
]);

/** The flags the fields API may set. */
export const FLAG_KEYS = [
  'isPublished', 'isRequired', 'isListable', 'isVisible', 'isShortVisible', 'isUniqueIdentifier', 'isPubliclyUpdatable',
] as const;

type Flags = Partial<Pick<RegisteredField, (typeof FLAG_KEYS)[number]>>;

export type NewField = Pick<RegisteredField, 'label' | 'alias'> &
  Partial<Pick<RegisteredField, 'type' | 'defaultValue' | 'properties' | 'createdByUser'>> &
  Flags & { group?: FieldGroup };

export type FieldChanges = Partial<Pick<RegisteredField, 'label' | 'defaultValue' | 'modifiedByUser'>> & Flags;

export class FieldRegistry {
  /** Unique identifier aliases; the same array for the registry's life (tracking holds it). */
  readonly uniqueAliases: string[] = [];
  /** Publicly updatable aliases; the same array for the registry's life. */
  readonly publicAliases: string[] = [];
  private fields: RegisteredField[] = [];
  private nextId = FIRST_CUSTOM_ID;

  /** The options' lists are the initial flags; aliases that are not fields stay in the lists as given. */
  constructor(
    private readonly initialUnique: readonly string[],
    private readonly initialPublic: readonly string[],
    private readonly now: () => string,
  ) {
    this.clear();
  }

  /** In id order; also the field list contacts are serialized with. */
  list(): RegisteredField[] {
    return [...this.fields];
  }

  get(id: number): RegisteredField | undefined {
    return this.fields.find((field) => field.id === id);
  }

  byAlias(alias: string): RegisteredField | undefined {
    return this.fields.find((field) => field.alias === alias);
  }

  create(input: NewField): RegisteredField {
    const properties = input.properties ?? {};
    const field: RegisteredField = {
      id: this.nextId++,
      label: input.label,
      alias: input.alias,
      type: input.type ?? 'text',
      group: input.group ?? 'core',
      isFixed: false,
      properties,
      serializedProperties: phpSerialize(properties),
      defaultValue: input.defaultValue ?? null,
      isUniqueIdentifier: input.isUniqueIdentifier ?? false,
      isPubliclyUpdatable: input.isPubliclyUpdatable ?? false,
      order: 1,
      isPublished: input.isPublished ?? true,
      isRequired: input.isRequired ?? false,
      isListable: input.isListable ?? true,
      isVisible: input.isVisible ?? true,
      isShortVisible: input.isShortVisible ?? true,
      createdAt: this.now(),
      updatedAt: null,
      createdByUser: input.createdByUser ?? null,
      modifiedByUser: null,
    };
    this.fields.push(field);
    this.refresh();
    return field;
  }

  remove(field: RegisteredField): void {
    this.fields = this.fields.filter((entry) => entry !== field);
    this.refresh();
  }

  /** Mautic leaves `dateModified` as it was on a field edit (recorded); only the user changes. */
  update(field: RegisteredField, changes: FieldChanges): void {
    Object.assign(field, changes);
    this.refresh();
  }

  /** Back to the core fields with the options' flags. */
  clear(): void {
    this.fields = DEFAULT_FIELDS.map((definition) => ({
      ...structuredClone(definition),
      isUniqueIdentifier: this.initialUnique.includes(definition.alias),
      isPubliclyUpdatable: this.initialPublic.includes(definition.alias),
      order: definition.id,
      isPublished: true,
      isRequired: false,
      isListable: true,
      isVisible: true,
      isShortVisible: true,
      createdAt: null,
      updatedAt: null,
      createdByUser: null,
      modifiedByUser: null,
    }));
    this.nextId = FIRST_CUSTOM_ID;
    this.refresh();
  }

  private refresh(): void {
    const known = new Set(this.fields.map((field) => field.alias));
    replace(this.uniqueAliases, [
      ...this.fields.filter((field) => field.isUniqueIdentifier && field.isPublished).map((field) => field.alias),
      ...this.initialUnique.filter((alias) => !known.has(alias)),
    ]);
    replace(this.publicAliases, [
      ...this.fields.filter((field) => field.isPubliclyUpdatable && field.isPublished).map((field) => field.alias),
      ...this.initialPublic.filter((alias) => !known.has(alias)),
    ]);
  }
}

/** In place: holders of the array see the change. */
function replace(target: string[], values: string[]): void {
  target.splice(0, target.length, ...values);
}
