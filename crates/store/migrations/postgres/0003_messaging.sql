-- Messaging: per-school communication rules, messages and mailboxes, drafts, folders,
-- attachments, idempotent sends, the notification outbox and reports. Instants are Unix seconds.

-- A school's own choice for one rule (domain::communication::Rule); no row: the default.
CREATE TABLE communication_rules (
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    allowed BIGINT NOT NULL,
    updated_by TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (school_id, rule)
);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    sender_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- The first message of the conversation (its own id for a new one).
    thread_id TEXT NOT NULL,
    -- The message this one replies to or forwards, if any.
    parent_id TEXT,
    subject TEXT NOT NULL,
    -- Sanitised HTML (formats::rich_text) and its plain-text rendering.
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    -- JSON array of {"token", "label"}: the people and groups as the sender chose them.
    recipients_label TEXT NOT NULL,
    -- Subject, body text and sender's name folded (domain::names::fold_for_search).
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    recalled_at BIGINT,
    recalled_by TEXT
);
CREATE INDEX messages_sender ON messages (sender_id, created_at);
CREATE INDEX messages_thread ON messages (thread_id);

-- Everyone a message was delivered to, resolved at send time; never changed afterwards.
CREATE TABLE message_recipients (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, person_id)
);
CREATE INDEX message_recipients_person ON message_recipients (person_id);

-- One row per message in one person's mailbox: each recipient's copy and the sender's.
-- `origin` is 'inbox' or 'sent' (where it goes back from the trash); `folder` is 'inbox',
-- 'sent', 'trash' or the id of one of the owner's mail_folders.
CREATE TABLE mailbox_entries (
    owner_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    folder TEXT NOT NULL,
    unread BIGINT NOT NULL,
    -- The message's created_at, copied so that a folder page reads one index.
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, message_id)
);
CREATE INDEX mailbox_entries_folder ON mailbox_entries (owner_id, folder, created_at);
CREATE INDEX mailbox_entries_unread ON mailbox_entries (owner_id, folder) WHERE unread = 1;
CREATE INDEX mailbox_entries_message ON mailbox_entries (message_id);

CREATE TABLE mail_folders (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    subject TEXT NOT NULL DEFAULT '',
    -- As typed (sanitised again when sent).
    body_html TEXT NOT NULL DEFAULT '',
    -- JSON array of recipient tokens (domain::communication::Recipient::token).
    recipients TEXT NOT NULL DEFAULT '[]',
    -- 'new', 'reply', 'reply_all' or 'forward', and the message answered or forwarded.
    mode TEXT NOT NULL DEFAULT 'new',
    parent_id TEXT,
    -- The key the send of this draft will carry, drawn when the compose window opened.
    idempotency_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX drafts_owner ON drafts (owner_id, updated_at);

-- An uploaded file: stored under `storage_key` (an internal id, never the file's name).
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner_id, created_at);

CREATE TABLE draft_attachments (
    draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    PRIMARY KEY (draft_id, attachment_id)
);

CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id);

-- Idempotent sends: one row per (sender, key). 'pending' while the first request works,
-- 'done' with the message once it committed. `fingerprint` is the SHA-256 of the request.
CREATE TABLE send_requests (
    sender_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    message_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sender_id, idempotency_key)
);

-- Side effects to run after a commit: written in the same transaction as the change, drained
-- by workers at least once. `kind`: 'message_sent', 'message_recalled', 'news_published', …
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until BIGINT,
    done_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (available_at) WHERE done_at IS NULL;

-- What a notification worker delivered, so that a second pass over one outbox entry sends
-- nothing twice to the same person on the same channel.
CREATE TABLE notification_deliveries (
    subject_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    delivered_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, recipient_id, channel)
);

-- "Report this message": reaches the administrators of `school_id` (the reporter's school).
CREATE TABLE message_reports (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    reporter_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    handled_at BIGINT,
    handled_by TEXT,
    UNIQUE (message_id, reporter_id)
);
CREATE INDEX message_reports_school ON message_reports (school_id, handled_at);

-- Where a person wants e-mail notifications of new messages (NULL: none).
ALTER TABLE preferences ADD COLUMN notify_email TEXT;

-- Full-text search in one's mailbox (SQLite uses an FTS5 table instead).
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', search_text));
