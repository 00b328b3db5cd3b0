-- Completion notices (SEC H1.11, H1.12) wait here until a delivery channel takes them: the
-- notice is written once (its id chosen by the workflow, so a retried write is a no-op), then
-- marked delivered, or failed with the attempt count and error while Temporal retries.

CREATE TABLE notice_outbox (
    notice_id    text        PRIMARY KEY,
    case_id      text        NOT NULL,
    recipient    text        NOT NULL,
    body         jsonb       NOT NULL,
    status       text        NOT NULL DEFAULT 'queued'
                             CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    channel      text,
    reference    text,
    last_error   text,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX notice_outbox_status ON notice_outbox (status, queued_at);
CREATE INDEX notice_outbox_case ON notice_outbox (case_id);
