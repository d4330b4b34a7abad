import { credentials as grpcCredentials, loadPackageDefinition, type ChannelCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { REFLECTION_PROTO_PATHS } from "../../src/index.ts";

/** A DescriptorProto as protobufjs decodes it (the fields tests look at). */
export interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly { name: string; typeName?: string }[];
  readonly nestedType: readonly MessageDescriptor[];
  readonly enumType: readonly { name: string }[];
}

/** A FileDescriptorProto as protobufjs decodes it (the fields tests look at). */
export interface FileDescriptor {
  readonly name: string;
  readonly package: string;
  readonly dependency: readonly string[];
  readonly service: readonly {
    name: string;
    method: readonly { name: string; inputType: string; outputType: string }[];
  }[];
  readonly messageType: readonly MessageDescriptor[];
  readonly enumType: readonly { name: string }[];
}

/**
 * What a strict client (grpcurl, protobuf-go's protodesc) would fail to link in the first
 * file of a reflection answer: type references that are not fully qualified, or that no
 * type in the file or in a dependency it declares (and the answer carries) defines.
 */
export function unlinkedReferences(files: readonly FileDescriptor[]): string[] {
  const [file] = files;
  if (file === undefined) return ["(no file)"];
  const byName = new Map(files.map((f) => [f.name, f]));
  const visible = new Set<string>();
  const problems: string[] = [];
  const define = (scope: string, messages: readonly MessageDescriptor[], enums: readonly { name: string }[]): void => {
    for (const e of enums) visible.add(`.${scope}.${e.name}`);
    for (const m of messages) {
      visible.add(`.${scope}.${m.name}`);
      define(`${scope}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  for (const f of [file.name, ...file.dependency]) {
    const defining = byName.get(f);
    if (defining === undefined) problems.push(`dependency ${f} missing from the answer`);
    else define(defining.package, defining.messageType, defining.enumType);
  }
  const check = (where: string, typeName: string | undefined): void => {
    if (typeName !== undefined && typeName !== "" && !visible.has(typeName)) problems.push(`${where}: ${typeName}`);
  };
  const walk = (scope: string, messages: readonly MessageDescriptor[]): void => {
    for (const m of messages) {
      for (const f of m.field) check(`${scope}.${m.name}.${f.name}`, f.typeName);
      walk(`${scope}.${m.name}`, m.nestedType);
    }
  };
  walk(file.package, file.messageType);
  for (const s of file.service)
    for (const m of s.method) {
      check(`${s.name}.${m.name} input`, m.inputType);
      check(`${s.name}.${m.name} output`, m.outputType);
    }
  return problems;
}

interface ReflectionResponse {
  messageResponse: "listServicesResponse" | "fileDescriptorResponse" | "errorResponse" | string;
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

interface ReflectionStream {
  write(request: object): void;
  end(): void;
  on(event: "data", listener: (res: ReflectionResponse) => void): void;
  on(event: "error", listener: (err: Error) => void): void;
  on(event: "end", listener: () => void): void;
}

type ReflectionClient = { serverReflectionInfo(): ReflectionStream; close(): void };

/**
 * A gRPC reflection client as a tool like grpcurl is one: the real
 * `grpc.reflection.v1.ServerReflection/ServerReflectionInfo` stream, from the reflection
 * proto shipped in @grpc/reflection, over grpc-js.
 */
export class ReflectionTestClient {
  private readonly client: ReflectionClient;

  constructor(address: string, credentials: ChannelCredentials = grpcCredentials.createInsecure()) {
    const pkg = loadPackageDefinition(loadSync(REFLECTION_PROTO_PATHS[0], { oneofs: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (a: string, c: ChannelCredentials) => ReflectionClient } } };
    };
    this.client = new pkg.grpc.reflection.v1.ServerReflection(address, credentials);
  }

  /** The fully qualified names of the services the server lists, sorted. */
  async listServices(): Promise<string[]> {
    const res = await this.ask({ listServices: "*" });
    if (res.listServicesResponse === undefined) throw new Error(`unexpected answer ${res.messageResponse}`);
    return res.listServicesResponse.service.map((s) => s.name).sort();
  }

  /** The file that defines `symbol`, first, then its dependencies, decoded. */
  async fileContainingSymbol(symbol: string): Promise<FileDescriptor[]> {
    const res = await this.ask({ fileContainingSymbol: symbol });
    if (res.errorResponse !== undefined)
      throw Object.assign(new Error(res.errorResponse.errorMessage), { code: res.errorResponse.errorCode });
    return (res.fileDescriptorResponse?.fileDescriptorProto ?? []).map(
      (bytes) =>
        descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes), {
          arrays: true,
        }) as FileDescriptor,
    );
  }

  close(): void {
    this.client.close();
  }

  /** One request on its own stream, and the one answer to it. */
  private ask(request: object): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      const stream = this.client.serverReflectionInfo();
      let answer: ReflectionResponse | undefined;
      stream.on("data", (res) => (answer ??= res));
      stream.on("error", reject);
      stream.on("end", () => (answer === undefined ? reject(new Error("no answer")) : resolve(answer)));
      stream.write(request);
      stream.end();
    });
  }
}
