// PUT validation for contacts (RFC 6352 §6.3.2.1): media type, size, vCard syntax and the one-card
// rule, each refused with its CARDDAV precondition; returns the UID and the search index to store.
import { DavError } from '../dav/errors.ts';
import type { RequestContext, WriteInput } from '../dav/plugin.ts';
import { carddav } from '../dav/xml/names.ts';
import type { CollectionRecord, ObjectMetadata } from '../store/types.ts';
import { serializeSearchIndex } from '../vcard/search-index.ts';
import { decodeCardBytes, InvalidAddressObject, validateCard } from '../vcard/validate.ts';

function isVcardMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  // text/x-vcard is what some older clients still send for the same format.
  return type === 'text/vcard' || type === 'text/x-vcard';
}

export function validateCardWrite(context: RequestContext, _book: CollectionRecord, input: WriteInput): ObjectMetadata {
  if (!isVcardMediaType(input.contentType)) {
    throw new DavError(403, `Contacts must be text/vcard, not ${input.contentType ?? 'nothing'}.`, carddav('supported-address-data'));
  }
  if (input.body.byteLength > context.settings.maxResourceSize) {
    throw new DavError(403, `The contact is larger than ${context.settings.maxResourceSize} bytes.`, carddav('max-resource-size'));
  }
  try {
    const { info } = validateCard(decodeCardBytes(input.body));
    return { uid: info.uid, component: 'VCARD', searchIndex: serializeSearchIndex(info.index) };
  } catch (error) {
    if (error instanceof InvalidAddressObject) throw new DavError(403, error.message, carddav(error.precondition));
    throw error;
  }
}
