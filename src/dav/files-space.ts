// The plain WebDAV folder space under /files/<user>/: folders and files of any type, with nothing
// protocol-specific. It keeps the DAV core honest (litmus runs against it).
import type { DavPlugin } from './plugin.ts';
import { homePath } from './resource.ts';

export const filesPlugin: DavPlugin = {
  name: 'files',
  collectionTypes: [{ kind: 'files', resourceType: [], parentKinds: ['files-home', 'files'] }],
  homes: (user) => [{ path: homePath('files', user.name), kind: 'files-home', children: [] }],
};
