-- The journal's tables: the venue's event stream projected for compliance, operations and
-- clearing. Every row an event writes is keyed by the event's (command_seq, idx), unique
-- venue-wide, so a replayed event writes nothing (ON CONFLICT DO NOTHING). Prices in ticks,
-- quantities in lots, values in ticks x lots, times in microseconds since the epoch (UTC).

-- Every event about an order (a trade is about two), and venue events (order_id 0): the audit trail.
CREATE TABLE order_events (
  command_seq bigint NOT NULL,
  idx integer NOT NULL,
  order_id bigint NOT NULL,
  stream_seq bigint NOT NULL,
  partition integer NOT NULL,
  instrument text NOT NULL,
  kind text NOT NULL,
  account text NOT NULL,
  time_us bigint NOT NULL,
  detail json NOT NULL,
  PRIMARY KEY (command_seq, idx, order_id)
);
CREATE INDEX order_events_by_order ON order_events (order_id, command_seq, idx);

CREATE TABLE trades (
  command_seq bigint NOT NULL,
  idx integer NOT NULL,
  trade_id bigint NOT NULL,
  stream_seq bigint NOT NULL,
  partition integer NOT NULL,
  instrument text NOT NULL,
  price bigint NOT NULL,
  qty bigint NOT NULL,
  aggressor_side text NOT NULL,
  maker_order_id bigint NOT NULL,
  maker_account text NOT NULL,
  taker_order_id bigint NOT NULL,
  taker_account text NOT NULL,
  time_us bigint NOT NULL,
  PRIMARY KEY (command_seq, idx)
);
CREATE INDEX trades_by_instrument_time ON trades (instrument, time_us);

-- Each side of a trade, for the account that traded it.
CREATE TABLE executions (
  command_seq bigint NOT NULL,
  idx integer NOT NULL,
  role text NOT NULL CHECK (role IN ('maker', 'taker')),
  account text NOT NULL,
  order_id bigint NOT NULL,
  instrument text NOT NULL,
  side text NOT NULL CHECK (side IN ('BUY', 'SELL')),
  price bigint NOT NULL,
  qty bigint NOT NULL,
  leaves_qty bigint NOT NULL,
  time_us bigint NOT NULL,
  PRIMARY KEY (command_seq, idx, role)
);
CREATE INDEX executions_by_account_time ON executions (account, instrument, time_us);

-- Each order's current state. Fields that events set together come in groups, each with the
-- key of the newest event that set it (<group>_seq, <group>_idx), so the row is the same
-- whatever order the events arrive in; account, side and time in force never change.
CREATE TABLE orders (
  order_id bigint PRIMARY KEY,
  partition integer NOT NULL,
  instrument text NOT NULL,
  account text,
  client_order_id text,
  side text,
  order_type text,
  time_in_force text,
  price bigint,
  stop_price bigint,
  qty bigint,
  leaves_qty bigint,
  status text,
  accepted_command_seq bigint,
  terms_seq bigint,
  terms_idx integer,
  order_type_seq bigint,
  order_type_idx integer,
  price_seq bigint,
  price_idx integer,
  leaves_seq bigint,
  leaves_idx integer,
  status_seq bigint,
  status_idx integer,
  last_command_seq bigint NOT NULL,
  last_idx integer NOT NULL,
  updated_time_us bigint NOT NULL
);
CREATE INDEX orders_by_account ON orders (account, instrument);

-- Per account and instrument, the sums of its executions: written in the statement that
-- inserts them, from the rows actually inserted, so a replay adds nothing.
CREATE TABLE positions (
  account text NOT NULL,
  instrument text NOT NULL,
  net_qty bigint NOT NULL,
  bought_qty bigint NOT NULL,
  sold_qty bigint NOT NULL,
  bought_value bigint NOT NULL,
  sold_value bigint NOT NULL,
  PRIMARY KEY (account, instrument)
);

-- Messages and events the projector could not use; position -1 for a whole message.
CREATE TABLE dead_letters (
  stream_seq bigint NOT NULL,
  position integer NOT NULL,
  subject text NOT NULL,
  reason text NOT NULL,
  detail text NOT NULL,
  data bytea,
  PRIMARY KEY (stream_seq, position)
);

-- Where each projector resumes: the event stream's sequence of the last message it wrote,
-- stored in the transaction of the rows it covers.
CREATE TABLE projector_position (
  projector text PRIMARY KEY,
  stream_seq bigint NOT NULL
);
