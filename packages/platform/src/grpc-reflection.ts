import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Server } from "@grpc/grpc-js";
import { loadSync, type MessageTypeDefinition, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { ConfigError } from "./errors.ts";

/**
 * The repository's protobuf contracts (`proto/`), the one source of the wire format. The
 * services run from this checkout (Node strips the types; there is no build output), so
 * the files are where the code is.
 */
export const DEFAULT_PROTO_ROOT = fileURLToPath(new URL("../../../proto/", import.meta.url));

/** The reflection protos shipped in @grpc/reflection (v1, and v1alpha for older clients). */
const REFLECTION_PROTO_DIR = join(dirname(createRequire(import.meta.url).resolve("@grpc/reflection")), "../proto");
export const REFLECTION_PROTO_PATHS = [
  join(REFLECTION_PROTO_DIR, "grpc/reflection/v1/reflection.proto"),
  join(REFLECTION_PROTO_DIR, "grpc/reflection/v1alpha/reflection.proto"),
] as const;

/** Services every server hosts besides its own, and so describes too. */
export const STANDARD_GRPC_SERVICES = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
] as const;

/** Linked contracts by proto root: the files do not change while the process runs. */
const loaded = new Map<string, LinkedContracts>();

/** The contracts as reflection serves them: one file descriptor per package, linked. */
export interface LinkedContracts {
  /** A package definition carrying every file descriptor, for ReflectionService. */
  readonly definition: PackageDefinition;
  /** Fully qualified names of every service the files define. */
  readonly services: ReadonlySet<string>;
}

/**
 * Every `.proto` under `protoRoot` plus the health and reflection protos, as file
 * descriptors that reflection clients can link. google/protobuf well-known types come
 * bundled with protobufjs and proto-loader, so `protoRoot` is the only include directory.
 *
 * proto-loader (protobufjs) regroups descriptors by package (`tradeplane_v1.proto`,
 * `google_protobuf.proto`), leaves their `dependency` lists empty and writes type names
 * relative to their scope (grpc/grpc-node#2595, #3034): a strict client such as grpcurl
 * then fails to resolve `google.protobuf.Timestamp`. `linkFileDescriptors` fills in the
 * dependencies and fully qualifies every type name, so each file names what it uses.
 */
export function contractsForReflection(protoRoot: string = DEFAULT_PROTO_ROOT): LinkedContracts {
  const cached = loaded.get(protoRoot);
  if (cached !== undefined) return cached;
  let definition: PackageDefinition;
  try {
    const files = readdirSync(protoRoot, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".proto"))
      .map((f) => relative(protoRoot, join(protoRoot, f)))
      .sort();
    if (files.length === 0) throw new Error("no .proto files");
    definition = loadSync([...files, healthProtoPath, ...REFLECTION_PROTO_PATHS], { includeDirs: [protoRoot] });
  } catch (err) {
    throw new ConfigError(
      `TP_GRPC_REFLECTION (grpcReflection): cannot load the protobuf contracts from ${protoRoot}: ` +
        `${(err as Error).message} (set TP_GRPC_REFLECTION=false to run without reflection)`,
    );
  }
  // Every message and enum definition carries the same list of every file; one is enough.
  const entry = Object.entries(definition).find(
    (e): e is [string, MessageTypeDefinition<object, object>] => "fileDescriptorProtos" in e[1] && "serialize" in e[1],
  );
  if (entry === undefined)
    throw new ConfigError(`TP_GRPC_REFLECTION (grpcReflection): ${protoRoot} defines no messages`);
  const [key, carrier] = entry;
  const files = linkFileDescriptors(carrier.fileDescriptorProtos);
  const contracts: LinkedContracts = {
    definition: { [key]: { ...carrier, fileDescriptorProtos: files.map((f) => f.bytes) } },
    services: new Set(files.flatMap((f) => f.services)),
  };
  loaded.set(protoRoot, contracts);
  return contracts;
}

/**
 * Adds gRPC server reflection (grpc.reflection.v1 and v1alpha) to a server, describing
 * exactly the services it hosts (`hosted`, plus health and reflection). Returns the names
 * of hosted services the contracts do not define (reflection cannot describe them).
 */
export function addReflection(server: Server, hosted: readonly string[], protoRoot?: string): string[] {
  const contracts = contractsForReflection(protoRoot);
  new ReflectionService(contracts.definition, { services: [...hosted, ...STANDARD_GRPC_SERVICES] }).addToServer(server);
  return hosted.filter((name) => !contracts.services.has(name));
}

interface FieldProto {
  typeName?: string;
}
interface MessageProto {
  name: string;
  field?: FieldProto[];
  extension?: FieldProto[];
  nestedType?: MessageProto[];
  enumType?: { name: string }[];
}
interface FileProto {
  name: string;
  package?: string;
  dependency: string[];
  messageType?: MessageProto[];
  enumType?: { name: string }[];
  service?: { name: string; method?: { inputType?: string; outputType?: string }[] }[];
  extension?: FieldProto[];
}

/**
 * Serialized file descriptors with their `dependency` lists filled in and every type
 * reference fully qualified (`.google.protobuf.Timestamp`), resolved with protobuf's
 * scoping rules (innermost scope first). Files keep their order; duplicates are dropped.
 */
export function linkFileDescriptors(encoded: readonly Uint8Array[]): { bytes: Buffer; services: string[] }[] {
  const files = new Map<string, FileProto>();
  for (const bytes of encoded) {
    const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileProto;
    if (!files.has(file.name)) files.set(file.name, file);
  }
  const owner = new Map<string, string>();
  const indexMessages = (messages: readonly MessageProto[] | undefined, scope: string, file: string): void => {
    for (const m of messages ?? []) {
      const name = qualify(scope, m.name);
      owner.set(name, file);
      for (const e of m.enumType ?? []) owner.set(qualify(name, e.name), file);
      indexMessages(m.nestedType, name, file);
    }
  };
  for (const file of files.values()) {
    const pkg = file.package ?? "";
    for (const e of file.enumType ?? []) owner.set(qualify(pkg, e.name), file.name);
    indexMessages(file.messageType, pkg, file.name);
  }
  const resolve = (name: string, scope: string): string | undefined => {
    if (name.startsWith(".")) return owner.has(name.slice(1)) ? name.slice(1) : undefined;
    for (let s = scope; ; s = s.includes(".") ? s.slice(0, s.lastIndexOf(".")) : "") {
      const candidate = qualify(s, name);
      if (owner.has(candidate)) return candidate;
      if (s === "") return undefined;
    }
  };
  return [...files.values()].map((file) => {
    const pkg = file.package ?? "";
    const dependencies = new Set(file.dependency);
    const link = (name: string | undefined, scope: string): string | undefined => {
      if (name === undefined || name === "") return name;
      const target = resolve(name, scope);
      if (target === undefined) return name;
      const definedIn = owner.get(target)!;
      if (definedIn !== file.name) dependencies.add(definedIn);
      return `.${target}`;
    };
    const linkFields = (fields: FieldProto[] | undefined, scope: string): void => {
      for (const f of fields ?? []) f.typeName = link(f.typeName, scope);
    };
    const linkMessages = (messages: MessageProto[] | undefined, scope: string): void => {
      for (const m of messages ?? []) {
        const name = qualify(scope, m.name);
        linkFields(m.field, name);
        linkFields(m.extension, name);
        linkMessages(m.nestedType, name);
      }
    };
    linkMessages(file.messageType, pkg);
    linkFields(file.extension, pkg);
    for (const service of file.service ?? [])
      for (const method of service.method ?? []) {
        method.inputType = link(method.inputType, pkg);
        method.outputType = link(method.outputType, pkg);
      }
    file.dependency = [...dependencies].sort();
    return {
      bytes: Buffer.from(descriptor.FileDescriptorProto.encode(file as never).finish()),
      services: (file.service ?? []).map((s) => qualify(pkg, s.name)),
    };
  });
}

function qualify(scope: string, name: string): string {
  return scope === "" ? name : `${scope}.${name}`;
}
