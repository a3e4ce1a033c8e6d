/**
 * The standalone form of the recorded `api_forms_new_201` (form 1 of most form recordings), with
 * its tag action naming the tag instead of a tag id: the form the stand-in tests and conformance
 * scenarios post to.
 */
export const IDENTIFY_FORM = {
  name: 'Identify',
  alias: 'identify',
  formType: 'standalone',
  isPublished: true,
  postAction: 'message',
  postActionProperty: 'Thanks',
  fields: [
    { label: 'Email', alias: 'email', type: 'email', mappedObject: 'contact', mappedField: 'email', isRequired: true },
    { label: 'Submit', alias: 'submit', type: 'button' },
  ],
  actions: [
    { name: 'tag it', type: 'lead.changetags', properties: { add_tags: ['form-tag'], remove_tags: [] } },
    { name: 'points', type: 'lead.pointschange', properties: { operator: 'plus', points: 5 } },
  ],
};
