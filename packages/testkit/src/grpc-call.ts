/** Turns a grpc-js unary callback call into a promise: `await unary<Res>((cb) => client.m(req, cb))`. */
export function unary<Res>(invoke: (callback: (err: Error | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    invoke((err, res) => (err ? reject(err) : resolve(res)));
  });
}
