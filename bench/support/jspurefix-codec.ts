// jspurefix (npm, MIT), a well-known pure JavaScript FIX engine, set up for the same codec
// work as ours: parse a message into its view and object, and encode an object with its
// transmitter (header, body, trailer and checksum), against its QuickFIX FIX 4.4 dictionary.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export interface ForeignCodec {
  /** Parses one framed message; returns its object form. */
  parse(bytes: Buffer): Record<string, unknown>;
  /** Encodes an object of `msgType`; returns the bytes. */
  encode(msgType: string, object: Record<string, unknown>): Buffer;
}

export async function jspurefixCodec(): Promise<ForeignCodec> {
  require("reflect-metadata");
  const jsp = require("jspurefix");
  const { makeSessionScope } = require("jspurefix/dist/runtime/session-scope");
  const { AsciiMsgTransmitter } = require("jspurefix/dist/transport/ascii/ascii-msg-transmitter");
  const sys = new jsp.SessionContainer();
  sys.registerGlobal("error");
  const description = {
    application: {
      type: "initiator",
      name: "bench",
      protocol: "ascii",
      dictionary: "qf44",
      tcp: { host: "localhost", port: 1 },
    },
    SenderCompId: "CLIENT",
    TargetCompID: "VENUE",
    BeginString: "FIX.4.4",
    HeartBtInt: 30,
    BodyLengthChars: 3,
  };
  const container = await sys.makeSystem(description);
  const config = container.resolve(jsp.DITokens.IJsFixConfig);
  config.definitions = await new jsp.DefinitionFactory().getDefinitions("qf44");
  const scoped = makeSessionScope(config);
  const sc = scoped.sessionContainer;
  const parser = new jsp.AsciiParser(
    scoped,
    null,
    sc.resolve(jsp.DITokens.ParseBuffer),
    sc.resolve(jsp.DITokens.maxMessageLen),
  );
  let last: Record<string, unknown> | null = null;
  parser.on("msg", (_type: string, view: { toObject(): Record<string, unknown> }) => {
    last = view.toObject();
  });
  const transmitter = new AsciiMsgTransmitter(scoped);
  return {
    parse(bytes) {
      last = null;
      parser.parseBuffer(bytes);
      if (last === null) throw new Error("jspurefix parsed no message");
      return last;
    },
    encode(msgType, object) {
      transmitter.encodeMessage(msgType, object);
      return transmitter.buffer.slice();
    },
  };
}
