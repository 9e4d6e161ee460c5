// The plugin contract: what a protocol (CalDAV, CardDAV, sync, ACL) adds to the generic WebDAV core,
// declared as data — live properties, methods, reports, collection types and write hooks — so the core
// never needs to know about calendars or contacts. Must not import any plugin.
import type { HomeLayout, Store } from '../store/store.ts';
import type { CollectionKind, CollectionRecord, ObjectMetadata, ObjectWithBody, PropertyOperation, UserRecord } from '../store/types.ts';
import type { DavError } from './errors.ts';
import type { DavRequest, DavResponse } from './request.ts';
import type { Resource } from './resource.ts';
import type { ClarkName } from './xml/names.ts';
import type { XmlElement, XmlNode } from './xml/tree.ts';

export interface ServerSettings {
  /** Largest object body accepted by PUT, in bytes. */
  readonly maxResourceSize: number;
}

/** Everything a handler may use while serving one authenticated request. */
export interface RequestContext {
  readonly request: DavRequest;
  readonly store: Store;
  readonly user: UserRecord;
  readonly settings: ServerSettings;
  readonly registry: PluginRegistry;
}

/** A property the server computes (or validates) rather than storing as the client sent it. */
export interface LiveProperty {
  readonly name: ClarkName;
  /** RFC 4918 §9.1: allprop returns the RFC 4918 properties; expensive or protocol ones only on request. */
  readonly inAllprop: boolean;
  /** Protected properties are refused by PROPPATCH with DAV:cannot-modify-protected-property. */
  readonly protected: boolean;
  /** Protected, yet accepted in the body of MKCOL/MKCALENDAR (e.g. supported-calendar-component-set). */
  readonly settableAtCreation?: boolean;
  appliesTo(resource: Resource): boolean;
  /**
   * The value, or undefined when the resource has none (→ 404 propstat). Properties without `get` are
   * stored as dead properties but checked by `validate` on the way in.
   */
  get?(context: RequestContext, resource: Resource): readonly XmlNode[] | undefined | Promise<readonly XmlNode[] | undefined>;
  /** For writable properties: a DavError describing why a value is refused, or undefined to accept it. */
  validate?(value: XmlElement, resource: Resource): DavError | undefined;
  /** For writable properties: what to store for an accepted value (default: the element as sent). */
  toStored?(value: XmlElement, resource: Resource): readonly PropertyOperation[];
  /** Stored properties derived from this one, removed with it. */
  readonly companions?: readonly ClarkName[];
}

export interface ReportDefinition {
  readonly name: ClarkName;
  appliesTo(resource: Resource): boolean;
  handle(context: RequestContext, resource: Resource, body: XmlElement): Promise<DavResponse>;
}

export type MethodHandler = (context: RequestContext, resource: Resource | null) => Promise<DavResponse>;

/** A collection kind a client may create with extended MKCOL (RFC 5689) by naming its resourcetype. */
export interface CollectionType {
  readonly kind: CollectionKind;
  /** Resource type elements besides DAV:collection. */
  readonly resourceType: readonly ClarkName[];
  /** Kinds of parent this collection may be created in. */
  readonly parentKinds: readonly CollectionKind[];
  /** Properties stored at creation unless the request sets them itself. */
  readonly defaultProperties?: readonly PropertyOperation[];
}

export interface WriteInput {
  readonly name: string;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
}

export interface DavPlugin {
  readonly name: string;
  /** Tokens this plugin adds to the DAV: response header (only for what it fully implements). */
  readonly complianceClasses?: readonly string[];
  readonly properties?: readonly LiveProperty[];
  readonly reports?: readonly ReportDefinition[];
  /** Extra methods (e.g. MKCALENDAR). The resource is null when the target does not exist. */
  readonly methods?: Readonly<Record<string, MethodHandler>>;
  readonly collectionTypes?: readonly CollectionType[];
  /** Homes (and first collections) this plugin needs for a user. */
  homes?(user: UserRecord): readonly HomeLayout[];
  /** Validates an object written into a collection kind this plugin owns and extracts its metadata. */
  readonly writeHooks?: Partial<Record<CollectionKind, (context: RequestContext, collection: CollectionRecord, input: WriteInput) => Promise<ObjectMetadata> | ObjectMetadata>>;
  /**
   * Another representation of a stored object for GET, chosen from the request (e.g. the vCard
   * version asked for in Accept); undefined serves the stored bytes.
   */
  readonly representations?: Partial<Record<CollectionKind, (context: RequestContext, object: ObjectWithBody) => { readonly body: Uint8Array; readonly contentType: string } | undefined>>;
  /** The precondition a UID clash violates in collections of this plugin's kinds. */
  readonly uidConflict?: Partial<Record<CollectionKind, (existingHref: string) => DavError>>;
}

/** The plugins of one server, indexed for the lookups every request makes. */
export class PluginRegistry {
  readonly plugins: readonly DavPlugin[];
  readonly properties: ReadonlyMap<ClarkName, readonly LiveProperty[]>;
  readonly reports: readonly ReportDefinition[];
  readonly methods: ReadonlyMap<string, MethodHandler>;
  readonly collectionTypes: readonly CollectionType[];
  readonly complianceClasses: readonly string[];

  constructor(plugins: readonly DavPlugin[]) {
    this.plugins = plugins;
    const properties = new Map<ClarkName, LiveProperty[]>();
    for (const plugin of plugins) {
      for (const property of plugin.properties ?? []) {
        const list = properties.get(property.name) ?? [];
        list.push(property);
        properties.set(property.name, list);
      }
    }
    this.properties = properties;
    this.reports = plugins.flatMap((p) => p.reports ?? []);
    this.methods = new Map(plugins.flatMap((p) => Object.entries(p.methods ?? {})));
    this.collectionTypes = plugins.flatMap((p) => p.collectionTypes ?? []);
    this.complianceClasses = plugins.flatMap((p) => p.complianceClasses ?? []);
  }

  /** The live property definition for a name on a resource, if any plugin defines one. */
  liveProperty(name: ClarkName, resource: Resource): LiveProperty | undefined {
    return this.properties.get(name)?.find((p) => p.appliesTo(resource));
  }

  liveProperties(resource: Resource): LiveProperty[] {
    const out: LiveProperty[] = [];
    for (const list of this.properties.values()) {
      const match = list.find((p) => p.appliesTo(resource));
      if (match !== undefined) out.push(match);
    }
    return out;
  }

  homes(user: UserRecord): HomeLayout[] {
    return this.plugins.flatMap((p) => p.homes?.(user) ?? []);
  }

  writeHook(kind: CollectionKind): ((context: RequestContext, collection: CollectionRecord, input: WriteInput) => Promise<ObjectMetadata> | ObjectMetadata) | undefined {
    for (const plugin of this.plugins) {
      const hook = plugin.writeHooks?.[kind];
      if (hook !== undefined) return hook;
    }
    return undefined;
  }

  uidConflict(kind: CollectionKind): ((existingHref: string) => DavError) | undefined {
    for (const plugin of this.plugins) {
      const render = plugin.uidConflict?.[kind];
      if (render !== undefined) return render;
    }
    return undefined;
  }

  representation(kind: CollectionKind): NonNullable<DavPlugin['representations']>[CollectionKind] {
    for (const plugin of this.plugins) {
      const render = plugin.representations?.[kind];
      if (render !== undefined) return render;
    }
    return undefined;
  }

  resourceTypeOf(kind: CollectionKind): readonly ClarkName[] {
    return this.collectionTypes.find((t) => t.kind === kind)?.resourceType ?? [];
  }
}
