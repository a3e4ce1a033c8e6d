/**
 * Contact fields (Mautic's `lead_fields`): the core fields with Mautic's own ids, plus custom fields
 * created through `POST /api/fields/contact/new`. Which fields are unique identifiers and which are
 * publicly updatable is read live by tracking, the REST validator and form posts through
 * {@link FieldRegistry.uniqueAliases} and {@link FieldRegistry.publicAliases}.
 */

export interface FieldDefinition {
  id: number;
  label: string;
  alias: string;
  type: string;
  group: string;
  order: number;
  defaultValue: string | null;
  isPublished: boolean;
  isRequired: boolean;
  isFixed: boolean;
  isListable: boolean;
  isVisible: boolean;
  isShortVisible: boolean;
  isUniqueIdentifier: boolean;
  isPubliclyUpdatable: boolean;
  properties: Record<string, unknown>;
  /** null for the core fields (Mautic's installer leaves their dates empty). */
  createdAt: string | null;
  updatedAt: string | null;
}

/** [alias, label, type, group, isFixed] in Mautic's id order (ids 1–28). */
const CORE: [string, string, string, string, boolean][] = [
  ['title', 'Title', 'lookup', 'core', true],
  ['firstname', 'First Name', 'text', 'core', true],
  ['lastname', 'Last Name', 'text', 'core', true],
  ['company', 'Primary company', 'text', 'core', true],
  ['position', 'Position', 'text', 'core', true],
  ['email', 'Email', 'email', 'core', true],
  ['mobile', 'Mobile', 'tel', 'core', true],
  ['phone', 'Phone', 'tel', 'core', true],
  ['points', 'Points', 'number', 'core', true],
  ['fax', 'Fax', 'tel', 'core', false],
  ['address1', 'Address Line 1', 'text', 'core', true],
  ['address2', 'Address Line 2', 'text', 'core', true],
  ['city', 'City', 'text', 'core', true],
  ['state', 'State', 'region', 'core', true],
  ['zipcode', 'Zip Code', 'text', 'core', true],
  ['country', 'Country', 'country', 'core', true],
  ['preferred_locale', 'Preferred Locale', 'locale', 'core', true],
  ['timezone', 'Preferred Timezone', 'timezone', 'core', true],
  ['last_active', 'Date Last Active', 'datetime', 'core', true],
  ['attribution_date', 'Attribution Date', 'datetime', 'core', true],
  ['attribution', 'Attribution', 'number', 'core', true],
  ['website', 'Website', 'url', 'core', false],
  ['facebook', 'Facebook', 'text', 'social', false],
  ['foursquare', 'Foursquare', 'text', 'social', false],
  ['instagram', 'Instagram', 'text', 'social', false],
  ['linkedin', 'mautic.lead.field.linkedin', 'text', 'social', false],
  ['skype', 'Skype', 'text', 'social', false],
  ['twitter', 'Twitter', 'text', 'social', false],
];

/** Ids 29–43 are Mautic's company fields; the first custom contact field gets 44 (recorded). */
export const FIRST_CUSTOM_ID = 44;

export const FIELD_TYPES = new Set([
  'text', 'textarea', 'email', 'tel', 'url', 'number', 'boolean', 'date', 'datetime', 'time', 'select',
  'multiselect', 'lookup', 'country', 'region', 'locale', 'timezone', 'html',
]);

export type NewField = Pick<FieldDefinition, 'label' | 'alias'> & Partial<Omit<FieldDefinition, 'id' | 'label' | 'alias'>>;

export class FieldRegistry {
  /** Unique identifier aliases; the same array for the registry's life (tracking holds it). */
  readonly uniqueAliases: string[] = [];
  /** Publicly updatable aliases; the same array for the registry's life. */
  readonly publicAliases: string[] = [];
  private fields: FieldDefinition[] = [];
  private nextId = FIRST_CUSTOM_ID;

  /** The options' lists are the initial flags; aliases that are not fields stay in the lists as given. */
  constructor(
    private readonly initialUnique: readonly string[],
    private readonly initialPublic: readonly string[],
    private readonly now: () => string,
  ) {
    this.clear();
  }

  list(): FieldDefinition[] {
    return [...this.fields];
  }

  get(id: number): FieldDefinition | undefined {
    return this.fields.find((field) => field.id === id);
  }

  byAlias(alias: string): FieldDefinition | undefined {
    return this.fields.find((field) => field.alias === alias);
  }

  create(input: NewField): FieldDefinition {
    const at = this.now();
    const field: FieldDefinition = {
      type: 'text',
      group: 'core',
      order: 1,
      defaultValue: null,
      isPublished: true,
      isRequired: false,
      isFixed: false,
      isListable: true,
      isVisible: true,
      isShortVisible: true,
      isUniqueIdentifier: false,
      isPubliclyUpdatable: false,
      properties: {},
      ...input,
      id: this.nextId++,
      createdAt: at,
      updatedAt: null,
    };
    this.fields.push(field);
    this.refresh();
    return field;
  }

  remove(field: FieldDefinition): void {
    this.fields = this.fields.filter((entry) => entry !== field);
    this.refresh();
  }

  update(field: FieldDefinition, changes: Partial<Omit<FieldDefinition, 'id' | 'alias' | 'createdAt'>>): void {
    Object.assign(field, changes, { updatedAt: this.now() });
    this.refresh();
  }

  /** Back to the core fields with the options' flags. */
  clear(): void {
    this.fields = CORE.map(([alias, label, type, group, isFixed], index) => ({
      id: index + 1,
      label,
      alias,
      type,
      group,
      order: index + 1,
      defaultValue: alias === 'points' ? '0' : null,
      isPublished: true,
      isRequired: false,
      isFixed,
      isListable: true,
      isVisible: true,
      isShortVisible: true,
      isUniqueIdentifier: this.initialUnique.includes(alias),
      isPubliclyUpdatable: this.initialPublic.includes(alias),
      properties: {},
      createdAt: null,
      updatedAt: null,
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
