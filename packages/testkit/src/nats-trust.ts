import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type KeyPair,
} from "@nats-io/jwt";

/**
 * A throwaway NATS operator for tests of `.creds` authentication (decentralised JWT auth,
 * as NGS or a production NATS with nsc runs it): an operator, a system account and one
 * application account with JetStream, all signed here with fresh NKeys. nats-server is given
 * the operator and both account JWTs (memory resolver); users get `.creds` files (their JWT
 * and NKey seed) written into `dir` with mode 0600. Nothing here is ever committed.
 */
export class NatsTrust {
  readonly dir: string;
  private readonly operatorJwt: string;
  private readonly systemAccount: { readonly publicKey: string; readonly jwt: string };
  private readonly account: { readonly publicKey: string; readonly jwt: string; readonly key: KeyPair };
  private users = 0;

  private constructor(
    dir: string,
    operatorJwt: string,
    systemAccount: NatsTrust["systemAccount"],
    account: NatsTrust["account"],
  ) {
    this.dir = dir;
    this.operatorJwt = operatorJwt;
    this.systemAccount = systemAccount;
    this.account = account;
  }

  /** A new operator with its accounts; `.creds` files go into `dir`. */
  static async create(dir: string): Promise<NatsTrust> {
    const operator = createOperator();
    const system = createAccount();
    const app = createAccount();
    const operatorJwt = await encodeOperator("tradeplane-test", operator, { system_account: system.getPublicKey() });
    const systemJwt = await encodeAccount("SYS", system, {}, { signer: operator });
    // No limits (-1): a limit left out of the claim reads as 0, which allows nothing.
    const unlimited = {
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    };
    const appJwt = await encodeAccount("VENUE", app, { limits: unlimited }, { signer: operator });
    return new NatsTrust(
      dir,
      operatorJwt,
      { publicKey: system.getPublicKey(), jwt: systemJwt },
      { publicKey: app.getPublicKey(), jwt: appJwt, key: app },
    );
  }

  /** The nats-server configuration lines that make the server trust this operator. */
  serverConfig(): string {
    return [
      `operator: ${this.operatorJwt}`,
      `system_account: ${this.systemAccount.publicKey}`,
      "resolver: MEMORY",
      "resolver_preload: {",
      `  ${this.systemAccount.publicKey}: ${this.systemAccount.jwt}`,
      `  ${this.account.publicKey}: ${this.account.jwt}`,
      "}",
    ].join("\n");
  }

  /** A user of the application account: the path of its new `.creds` file. */
  async userCreds(name: string): Promise<string> {
    const user = createUser();
    const jwt = await encodeUser(name, user, this.account.key);
    const file = join(this.dir, `${++this.users}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}.creds`);
    await writeFile(file, fmtCreds(jwt, user), { mode: 0o600 });
    return file;
  }
}
