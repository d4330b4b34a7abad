/**
 * Channel options for every long-lived client of the venue's gRPC services. grpc-js backs a
 * channel's reconnects off up to 120 s and fails every call meanwhile (UNAVAILABLE, "No
 * connection established"), so a client whose server restarted after a few minutes down
 * would stay cut off for up to two minutes more. Here reconnects are at most 5 s apart.
 */
export const RECONNECT_CHANNEL_OPTIONS = {
  "grpc.initial_reconnect_backoff_ms": 500,
  "grpc.max_reconnect_backoff_ms": 5_000,
} as const;
