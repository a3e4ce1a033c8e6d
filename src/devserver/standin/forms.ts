/**
 * Mautic forms as the stand-in keeps them: definitions made through `POST /api/forms/new` and the
 * submissions public posts left (`POST /form/submit`). Contact resolution is in form-submit.ts.
 */
import type { FormSubmissionRecord } from './types.js';

export interface FormField {
  id: number;
  label: string;
  alias: string;
  type: string;
  defaultValue: string | null;
  isRequired: boolean;
  order: number;
  showLabel: boolean;
  validationMessage: string | null;
  helpMessage: string | null;
  properties: Record<string, unknown>;
  /** 'contact' (Mautic also knows 'company') and the field alias a value is saved to. */
  mappedObject: string | null;
  mappedField: string | null;
}

export interface FormAction {
  id: number;
  name: string;
  description: string | null;
  /** e.g. 'lead.changetags', 'lead.pointschange' (the two the stand-in applies). */
  type: string;
  order: number;
  properties: Record<string, unknown>;
}

export interface FormDefinition {
  id: number;
  name: string;
  alias: string;
  description: string | null;
  isPublished: boolean;
  formType: string;
  postAction: string;
  postActionProperty: string | null;
  inKioskMode: boolean;
  fields: FormField[];
  actions: FormAction[];
  createdAt: string;
  updatedAt: string | null;
  /** The API user that made it (Mautic saves a new form twice, so it is also the modifier). */
  createdByUser: string | null;
}

export type NewFormField = Omit<FormField, 'id' | 'order'>;
export type NewFormAction = Omit<FormAction, 'id' | 'order'>;
export type NewForm = Omit<FormDefinition, 'id' | 'fields' | 'actions' | 'createdAt' | 'updatedAt'> & {
  fields: NewFormField[];
  actions: NewFormAction[];
};

/** Field types that carry no value (left out of results and validation). */
export const NON_INPUT_TYPES = new Set(['button', 'freetext', 'freehtml', 'pagebreak', 'captcha']);

export class FormStore {
  private forms = new Map<number, FormDefinition>();
  private submissionList: FormSubmissionRecord[] = [];
  private nextFormId = 1;
  private nextFieldId = 1;
  private nextActionId = 1;

  constructor(private readonly now: () => string) {}

  create(input: NewForm): FormDefinition {
    const at = this.now();
    const form: FormDefinition = {
      ...input,
      id: this.nextFormId++,
      fields: input.fields.map((field, index) => ({ ...field, id: this.nextFieldId++, order: index + 1 })),
      actions: input.actions.map((action, index) => ({ ...action, id: this.nextActionId++, order: index + 1 })),
      createdAt: at,
      updatedAt: at,
    };
    this.forms.set(form.id, form);
    return form;
  }

  get(id: number): FormDefinition | undefined {
    return this.forms.get(id);
  }

  list(): FormDefinition[] {
    return [...this.forms.values()];
  }

  delete(id: number): boolean {
    return this.forms.delete(id);
  }

  addSubmission(submission: Omit<FormSubmissionRecord, 'seq'>): FormSubmissionRecord {
    const recorded: FormSubmissionRecord = { seq: this.submissionList.length + 1, ...submission };
    this.submissionList.push(recorded);
    return recorded;
  }

  /** A merge moves the loser's submissions to the winner, as Mautic re-points them. */
  reassignSubmissions(fromContactId: number, toContactId: number): void {
    for (const submission of this.submissionList) {
      if (submission.contactId === fromContactId) submission.contactId = toContactId;
    }
  }

  get submissions(): FormSubmissionRecord[] {
    return structuredClone(this.submissionList);
  }

  clear(): void {
    this.forms.clear();
    this.submissionList = [];
    this.nextFormId = 1;
    this.nextFieldId = 1;
    this.nextActionId = 1;
  }
}
