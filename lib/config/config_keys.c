/* The one table of configuration keys. Adding a key here makes it loadable from the file,
 * the environment (PLATCTL_<KEY>), visible in `config show`, and documented in the
 * generated example config. man/platctl.yaml.5.scd must describe it too (a test checks). */
#include "config/config.h"
#include "config/config_checks.h"

#include <stddef.h>

static const struct plat_config_key_def key_table[PLAT_CFG__COUNT] = {
	[PLAT_CFG_DATABASE_URL] = {
		.name = "database.url",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET_URL,
		.validate = plat_cfg_validate_database_url,
		.section = "database",
		.doc = "PostgreSQL connection: a postgres:// URL or a libpq conninfo string. "
		       "The password part is never printed or logged; prefer ~/.pgpass or PGPASSWORD.",
		.example = "postgres://platctl@localhost:5432/platctl?sslmode=verify-full",
	},
	[PLAT_CFG_DATABASE_CONNECT_TIMEOUT] = {
		.name = "database.connect_timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "10s",
		.min = 1000, .max = 3600 * 1000,
		.section = "database",
		.doc = "How long to keep trying to connect (with backoff) before giving up with exit 7.",
	},
	[PLAT_CFG_DATABASE_OUTAGE_LIMIT] = {
		.name = "database.outage_limit",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "5m",
		.min = 1000, .max = 24 * 3600 * 1000,
		.section = "database",
		.doc = "consume: how long the database may stay unreachable while it runs. Its workers "
		       "reconnect with backoff meanwhile and claim nothing; past this, consume exits 7 so "
		       "that its service manager restarts it.",
	},
	[PLAT_CFG_DATABASE_ROW_SECURITY] = {
		.name = "database.row_security",
		.type = PLAT_CFG_T_BOOL,
		.default_value = "false",
		.section = "database",
		.doc = "Set platctl.tenant_id with SET LOCAL in every transaction, for the row-level security "
		       "policies of a database role that does not own the tables (the server's). A statement "
		       "outside a transaction goes out in one with the setting, in one round trip. Owners bypass the policies.",
	},
	[PLAT_CFG_DATABASE_PREPARE] = {
		.name = "database.prepare",
		.type = PLAT_CFG_T_BOOL,
		.default_value = "true",
		.section = "database",
		.doc = "serve: prepare each statement once per database connection and reuse its plan. "
		       "Turn off behind a connection pooler that cannot keep prepared statements "
		       "(PgBouncer before 1.21, or without max_prepared_statements, in transaction mode).",
	},
	[PLAT_CFG_AUTH_ARGON2_MEMORY] = {
		.name = "auth.argon2.memory",
		.type = PLAT_CFG_T_INT,
		.default_value = "65536",
		.min = 1024, .max = 4 * 1024 * 1024,
		.section = "auth",
		.doc = "Memory (KiB) argon2id uses per password hash. Each hash records its parameters, so "
		       "raising this affects new and changed passwords only.",
	},
	[PLAT_CFG_AUTH_ARGON2_ITERATIONS] = {
		.name = "auth.argon2.iterations",
		.type = PLAT_CFG_T_INT,
		.default_value = "3",
		.min = 1, .max = 100,
		.section = "auth",
		.doc = "Passes argon2id makes over its memory per password hash.",
	},
	[PLAT_CFG_AUTH_ARGON2_PARALLELISM] = {
		.name = "auth.argon2.parallelism",
		.type = PLAT_CFG_T_INT,
		.default_value = "1",
		.min = 1, .max = 16,
		.section = "auth",
		.doc = "Lanes (threads) argon2id uses per password hash.",
	},
	[PLAT_CFG_STORAGE_URL] = {
		.name = "storage.url",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_storage_url,
		.section = "storage",
		.doc = "Where document objects are stored: file:///absolute/path (a local directory) or "
		       "s3://bucket[/prefix]. `platctl dev up` sets a file:// directory in its profile.",
		.example = "file:///var/lib/platctl/objects",
	},
	[PLAT_CFG_S3_ENDPOINT] = {
		.name = "storage.s3.endpoint",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_http_url,
		.section = "storage",
		.doc = "S3 endpoint URL. Default: https://s3.REGION.amazonaws.com. Set it for other S3 services "
		       "(MinIO, Ceph, R2), usually with path_style: true.",
		.example = "https://s3.eu-central-1.amazonaws.com",
	},
	[PLAT_CFG_S3_REGION] = {
		.name = "storage.s3.region",
		.type = PLAT_CFG_T_STRING,
		.section = "storage",
		.doc = "Region the requests are signed for. Default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.",
		.example = "eu-central-1",
	},
	[PLAT_CFG_S3_PATH_STYLE] = {
		.name = "storage.s3.path_style",
		.type = PLAT_CFG_T_BOOL,
		.default_value = "false",
		.section = "storage",
		.doc = "Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY.",
	},
	[PLAT_CFG_S3_TLS_VERIFY] = {
		.name = "storage.s3.tls_verify",
		.type = PLAT_CFG_T_BOOL,
		.default_value = "true",
		.section = "storage",
		.doc = "Verify the endpoint's TLS certificate. Only turn this off for a test endpoint.",
	},
	[PLAT_CFG_S3_ACCESS_KEY_ID] = {
		.name = "storage.s3.access_key_id",
		.type = PLAT_CFG_T_STRING,
		.section = "storage",
		.doc = "Access key. Default: AWS_ACCESS_KEY_ID, else the AWS_PROFILE (or default) profile of "
		       "~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE).",
	},
	[PLAT_CFG_S3_SECRET_ACCESS_KEY] = {
		.name = "storage.s3.secret_access_key",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET,
		.section = "storage",
		.doc = "Secret key, found like access_key_id (AWS_SECRET_ACCESS_KEY). Never printed or logged.",
	},
	[PLAT_CFG_S3_SESSION_TOKEN] = {
		.name = "storage.s3.session_token",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET,
		.section = "storage",
		.doc = "Session token for temporary credentials (AWS_SESSION_TOKEN). Never printed or logged.",
	},
	[PLAT_CFG_S3_PART_SIZE] = {
		.name = "storage.s3.part_size",
		.type = PLAT_CFG_T_SIZE,
		.default_value = "16MiB",
		.min = 5LL << 20, .max = 5LL << 30,
		.section = "storage",
		.doc = "Objects larger than this are uploaded in parts of this size (multipart upload).",
	},
	[PLAT_CFG_S3_PARALLEL] = {
		.name = "storage.s3.parallel",
		.type = PLAT_CFG_T_INT,
		.default_value = "4",
		.min = 1, .max = 32,
		.section = "storage",
		.doc = "Parts of one multipart upload in flight at once.",
	},
	[PLAT_CFG_S3_MAX_RETRIES] = {
		.name = "storage.s3.max_retries",
		.type = PLAT_CFG_T_INT,
		.default_value = "5",
		.min = 0, .max = 20,
		.section = "storage",
		.doc = "Retries (exponential backoff with jitter) of a request that failed with 5xx, 429, a "
		       "timeout or a reset connection.",
	},
	[PLAT_CFG_S3_TIMEOUT] = {
		.name = "storage.s3.timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "30s",
		.min = 1000, .max = 3600 * 1000,
		.section = "storage",
		.doc = "A request that cannot connect, or makes no progress, for this long is retried.",
	},
	[PLAT_CFG_UPLOAD_ALLOWED_TYPES] = {
		.name = "upload.allowed_types",
		.type = PLAT_CFG_T_STRING,
		.default_value = "pdf,txt,md,html,docx",
		.validate = plat_cfg_validate_type_list,
		.section = "upload",
		.doc = "Document types accepted by upload, comma-separated, from: pdf, txt, md, html (HTML "
		       "and XHTML), docx. The type is sniffed from the content (libmagic), never taken from "
		       "the file name; a directory walk skips files of other types.",
	},
	[PLAT_CFG_UPLOAD_MAX_SIZE] = {
		.name = "upload.max_size",
		.type = PLAT_CFG_T_SIZE,
		.default_value = "512MiB",
		.min = 1, .max = 5LL << 30,
		.section = "upload",
		.doc = "Largest document upload accepts.",
	},
	[PLAT_CFG_EXTRACT_MEMORY_LIMIT] = {
		.name = "extract.memory_limit",
		.type = PLAT_CFG_T_SIZE,
		.default_value = "1GiB",
		.min = 64LL << 20, .max = 64LL << 30,
		.section = "extract",
		.doc = "Address space of the child process that parses an untrusted file (PDF, HTML, DOCX). "
		       "A file that needs more fails; the worker lives on.",
	},
	[PLAT_CFG_EXTRACT_CPU_LIMIT] = {
		.name = "extract.cpu_limit",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "30s",
		.min = 1000, .max = 3600 * 1000,
		.section = "extract",
		.doc = "CPU time the parsing child may use.",
	},
	[PLAT_CFG_EXTRACT_TIMEOUT] = {
		.name = "extract.timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "60s",
		.min = 1000, .max = 3600 * 1000,
		.section = "extract",
		.doc = "Wall-clock time the parsing child may take before it is killed.",
	},
	[PLAT_CFG_EVENTS_BACKEND] = {
		.name = "events.backend",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "auto",
		.choices = plat_cfg_event_backends,
		.section = "events",
		.doc = "How upload events reach workers: postgres (a queue table, LISTEN/NOTIFY) or kafka. "
		       "auto means kafka when events.kafka.brokers is set, else postgres.",
	},
	[PLAT_CFG_EVENTS_LEASE] = {
		.name = "events.lease",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "60s",
		.min = 2000, .max = 24 * 3600 * 1000,
		.section = "events",
		.doc = "postgres backend: how long a claimed event stays with its worker. The worker renews it "
		       "every third of this while it works, so only a worker that died loses it; its event is "
		       "claimable again after the lease.",
	},
	[PLAT_CFG_EVENTS_GRACE_PERIOD] = {
		.name = "events.grace_period",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "5m",
		.min = 0, .max = 24 * 3600 * 1000,
		.section = "events",
		.doc = "After SIGTERM or SIGINT, consume finishes the documents in progress for at most this "
		       "long; what is still running then is left for redelivery and consume exits 7.",
	},
	[PLAT_CFG_KAFKA_BROKERS] = {
		.name = "events.kafka.brokers",
		.type = PLAT_CFG_T_STRING,
		.section = "events",
		.doc = "Kafka bootstrap servers, comma-separated host:port.",
		.example = "kafka-1:9092,kafka-2:9092",
	},
	[PLAT_CFG_KAFKA_TOPIC] = {
		.name = "events.kafka.topic",
		.type = PLAT_CFG_T_STRING,
		.default_value = "platctl.documents",
		.section = "events",
		.doc = "Topic for document events (key: document id).",
	},
	[PLAT_CFG_KAFKA_DEAD_LETTER_TOPIC] = {
		.name = "events.kafka.dead_letter_topic",
		.type = PLAT_CFG_T_STRING,
		.default_value = "platctl.documents.dead-letter",
		.section = "events",
		.doc = "Where consume puts events that failed every attempt (with an error header).",
	},
	[PLAT_CFG_KAFKA_GROUP] = {
		.name = "events.kafka.group",
		.type = PLAT_CFG_T_STRING,
		.default_value = "platctl-consume",
		.section = "events",
		.doc = "Consumer group of consume workers.",
	},
	[PLAT_CFG_KAFKA_SESSION_TIMEOUT] = {
		.name = "events.kafka.session_timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "45s",
		.min = 1000, .max = 3600 * 1000,
		.section = "events",
		.doc = "Consumer group session timeout: how soon a dead worker's partitions move to others.",
	},
	[PLAT_CFG_KAFKA_PUBLISH_TIMEOUT] = {
		.name = "events.kafka.publish_timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "10s",
		.min = 100, .max = 3600 * 1000,
		.section = "events",
		.doc = "How long upload waits for Kafka to confirm its events. Events not confirmed stay in "
		       "the outbox and consume republishes them.",
	},
	[PLAT_CFG_KAFKA_REPUBLISH_AFTER] = {
		.name = "events.kafka.republish_after",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "30s",
		.min = 1000, .max = 24 * 3600 * 1000,
		.section = "events",
		.doc = "consume republishes outbox events still unconfirmed after this long (one consume "
		       "process at a time does it, under a PostgreSQL advisory lock).",
	},
	[PLAT_CFG_AI_CHAT_PROVIDER] = {
		.name = "ai.chat.provider",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "builtin",
		.choices = plat_cfg_ai_providers,
		.section = "ai",
		.doc = "Provider for summaries, classification, field extraction and answers. builtin is "
		       "offline and deterministic and needs no key.",
	},
	[PLAT_CFG_AI_EMBEDDINGS_PROVIDER] = {
		.name = "ai.embeddings.provider",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "builtin",
		.choices = plat_cfg_ai_providers,
		.section = "ai",
		.doc = "Provider for embeddings. builtin is offline (feature hashing, 384 dimensions).",
	},
	[PLAT_CFG_AI_CHAT_MODEL] = {
		.name = "ai.chat.model",
		.type = PLAT_CFG_T_STRING,
		.section = "ai",
		.doc = "Model for the chat provider. Default: claude-sonnet-4-5 (anthropic), gpt-4o-mini (openai).",
		.example = "claude-sonnet-4-5",
	},
	[PLAT_CFG_AI_EMBEDDINGS_MODEL] = {
		.name = "ai.embeddings.model",
		.type = PLAT_CFG_T_STRING,
		.section = "ai",
		.doc = "Model for the embeddings provider (openai: e.g. text-embedding-3-small). The model and its "
		       "dimension are recorded with every vector.",
		.example = "text-embedding-3-small",
	},
	[PLAT_CFG_AI_ANTHROPIC_BASE_URL] = {
		.name = "ai.anthropic.base_url",
		.type = PLAT_CFG_T_STRING,
		.default_value = "https://api.anthropic.com",
		.validate = plat_cfg_validate_http_url,
		.section = "ai",
		.doc = "Anthropic API endpoint.",
	},
	[PLAT_CFG_AI_ANTHROPIC_API_KEY] = {
		.name = "ai.anthropic.api_key",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET,
		.section = "ai",
		.doc = "Anthropic API key (default: ANTHROPIC_API_KEY). Never printed or logged.",
	},
	[PLAT_CFG_AI_OPENAI_BASE_URL] = {
		.name = "ai.openai.base_url",
		.type = PLAT_CFG_T_STRING,
		.default_value = "https://api.openai.com/v1",
		.validate = plat_cfg_validate_http_url,
		.section = "ai",
		.doc = "OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 for Ollama.",
	},
	[PLAT_CFG_AI_OPENAI_API_KEY] = {
		.name = "ai.openai.api_key",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET,
		.section = "ai",
		.doc = "OpenAI API key (default: OPENAI_API_KEY; local servers may need none). Never printed or logged.",
	},
	[PLAT_CFG_AI_TIMEOUT] = {
		.name = "ai.timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "60s",
		.min = 1000, .max = 3600 * 1000,
		.section = "ai",
		.doc = "Time limit of one attempt of a provider call.",
	},
	[PLAT_CFG_AI_MAX_RETRIES] = {
		.name = "ai.max_retries",
		.type = PLAT_CFG_T_INT,
		.default_value = "4",
		.min = 0, .max = 20,
		.section = "ai",
		.doc = "Retries of a call that failed with 429, 5xx, 529 (overloaded), a timeout or a reset, with "
		       "exponential backoff and jitter, honouring retry-after.",
	},
	[PLAT_CFG_AI_EXTERNAL_ALLOW] = {
		.name = "ai.external.allow",
		.type = PLAT_CFG_T_STRING,
		.default_value = "",
		.section = "ai",
		.doc = "Document classes that may be sent to an external provider, comma-separated (* for all). "
		       "Others are processed with builtin even when an external provider is configured.",
		.example = "report,policy",
	},
	[PLAT_CFG_AI_EXTERNAL_ALLOW_PII] = {
		.name = "ai.external.allow_pii",
		.type = PLAT_CFG_T_BOOL,
		.default_value = "false",
		.section = "ai",
		.doc = "Whether documents with detected personal data (emails, phone numbers, IBANs) may leave "
		       "the machine.",
	},
	[PLAT_CFG_AI_TAXONOMY] = {
		.name = "ai.taxonomy",
		.type = PLAT_CFG_T_STRING,
		.section = "ai",
		.doc = "A taxonomy file (classes, weighted keywords) replacing the builtin classifier's own, "
		       "which is compiled into platctl. Unset or empty: the compiled-in one; a copy of it "
		       "to start from is installed with the examples (share/doc/platctl/examples/classes.yaml).",
		.example = "/etc/platctl/classes.yaml",
	},
	[PLAT_CFG_ASK_MIN_SUPPORT] = {
		.name = "ask.min_support",
		.type = PLAT_CFG_T_STRING,
		.default_value = "0.52",
		.validate = plat_cfg_validate_support,
		.section = "ask",
		.doc = "ask refuses when the retrieved passages support the question less than this, "
		       "a number in (0, 1]. Support is the IDF-weighted share of the question's words "
		       "found in the best retrieved sentence (half), the best passage (a quarter) and all "
		       "the sources together (a quarter); 0 when the question names something no passage "
		       "mentions. "
		       "Lower answers more and refuses less; `platctl eval` reports the false refusal and "
		       "false answer rates of a labelled question set at this threshold.",
	},
	[PLAT_CFG_SEARCH_BM25_K1] = {
		.name = "search.bm25.k1",
		.type = PLAT_CFG_T_STRING,
		.default_value = "1.2",
		.validate = plat_cfg_validate_bm25_k1,
		.section = "search",
		.doc = "Okapi BM25's term-frequency saturation in the full-text half of search and ask: "
		       "0 counts a word once however often a passage repeats it; higher keeps rewarding "
		       "repetition. 1.2 is Lucene's default.",
	},
	[PLAT_CFG_SEARCH_BM25_B] = {
		.name = "search.bm25.b",
		.type = PLAT_CFG_T_STRING,
		.default_value = "0.75",
		.validate = plat_cfg_validate_unit_fraction,
		.section = "search",
		.doc = "BM25's length normalisation (0-1): how much a long passage's word counts are "
		       "discounted against the tenant's average passage length.",
	},
	[PLAT_CFG_SEARCH_HEADING_WEIGHT] = {
		.name = "search.bm25.heading_weight",
		.type = PLAT_CFG_T_STRING,
		.default_value = "3",
		.validate = plat_cfg_validate_weight,
		.section = "search",
		.doc = "How many times a word of a passage's headings (document title, section path) "
		       "counts as much as a word of its text (BM25F field weight).",
	},
	[PLAT_CFG_SEARCH_VECTOR_WEIGHT] = {
		.name = "search.vector_weight",
		.type = PLAT_CFG_T_STRING,
		.default_value = PLAT_SEARCH_VECTOR_WEIGHTS_DEFAULT,
		.validate = plat_cfg_validate_weight_list,
		.section = "search",
		.doc = "The vector half's weight in the fusion against the full-text half's 1, per "
		       "embedding model: MODEL=WEIGHT,... with * for any other model. The builtin "
		       "hash embedder finds related words poorly, so it counts for less; a trained "
		       "model (OpenAI-compatible) can count as much as the words or more.",
		.example = "builtin-hash-384-v1=0.3,text-embedding-3-small=1.2,*=1",
	},
	[PLAT_CFG_NOTIFY_WEBHOOK_URL] = {
		.name = "notify.webhook.url",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET | PLAT_CFG_SECRET_URL, /* the token is often in the path; a password too */
		.validate = plat_cfg_validate_http_url,
		.section = "notify",
		.doc = "Where each compliance run POSTs its digest (event compliance.digest), signed with "
		       "notify.webhook.secret (platctl-notify(7)). Empty: no webhook. Logs and the delivery "
		       "log show it without its password and query string.",
		.example = "https://hooks.example.com/platctl",
	},
	[PLAT_CFG_NOTIFY_WEBHOOK_SECRET] = {
		.name = "notify.webhook.secret",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET,
		.section = "notify",
		.doc = "The HMAC-SHA256 key webhook signatures are made with; the receiver holds the same. "
		       "Required with notify.webhook.url. Never printed or logged.",
	},
	[PLAT_CFG_NOTIFY_WEBHOOK_ATTEMPTS] = {
		.name = "notify.webhook.attempts",
		.type = PLAT_CFG_T_INT,
		.default_value = "5",
		.min = 1, .max = 20,
		.section = "notify",
		.doc = "Tries per webhook, e-mail and heartbeat. Connection errors, timeouts, HTTP 408, 425, "
		       "429 and 5xx, and SMTP 4xx replies are retried with exponential backoff and jitter "
		       "(Retry-After honoured up to a minute); other refusals are not.",
	},
	[PLAT_CFG_NOTIFY_WEBHOOK_TIMEOUT] = {
		.name = "notify.webhook.timeout",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "10s",
		.min = 1000, .max = 600 * 1000,
		.section = "notify",
		.doc = "How long one try (webhook, SMTP session or heartbeat) may take.",
	},
	[PLAT_CFG_NOTIFY_SMTP_URL] = {
		.name = "notify.smtp.url",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET_URL,
		.validate = plat_cfg_validate_smtp_url,
		.section = "notify",
		.doc = "The mail server: smtp://HOST[:PORT] (STARTTLS per notify.smtp.starttls) or "
		       "smtps://HOST[:PORT] (TLS from the start). Empty: no e-mail.",
		.example = "smtp://mail.example.com:587",
	},
	[PLAT_CFG_NOTIFY_SMTP_USER] = {
		.name = "notify.smtp.user",
		.type = PLAT_CFG_T_STRING,
		.section = "notify",
		.doc = "User name for SMTP AUTH. Empty: no authentication.",
	},
	[PLAT_CFG_NOTIFY_SMTP_PASSWORD] = {
		.name = "notify.smtp.password",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET,
		.section = "notify",
		.doc = "Password for SMTP AUTH. Never printed or logged.",
	},
	[PLAT_CFG_NOTIFY_SMTP_STARTTLS] = {
		.name = "notify.smtp.starttls",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "required",
		.choices = plat_cfg_starttls_modes,
		.section = "notify",
		.doc = "smtp:// only: required (no mail unless STARTTLS succeeds), try (when the server "
		       "offers it) or off (plain text, for a local relay).",
	},
	[PLAT_CFG_NOTIFY_SMTP_CA_FILE] = {
		.name = "notify.smtp.ca_file",
		.type = PLAT_CFG_T_STRING,
		.section = "notify",
		.doc = "CA certificates (PEM) the mail server's certificate is checked against. Empty: the "
		       "system's.",
	},
	[PLAT_CFG_NOTIFY_EMAIL_FROM] = {
		.name = "notify.email.from",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_email,
		.section = "notify",
		.doc = "Sender of every e-mail: ADDRESS or \"Name <ADDRESS>\". Required for e-mail.",
		.example = "platctl <platctl@example.com>",
	},
	[PLAT_CFG_NOTIFY_EMAIL_TO] = {
		.name = "notify.email.to",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_email_list,
		.section = "notify",
		.doc = "Recipients of the run digest, comma-separated. Expiry reminders go to the owners "
		       "their rules name instead.",
		.example = "compliance@example.com,legal@example.com",
	},
	[PLAT_CFG_NOTIFY_TEMPLATES] = {
		.name = "notify.templates",
		.type = PLAT_CFG_T_STRING,
		.section = "notify",
		.doc = "Directory of the e-mail templates digest.txt, digest.html, reminder.txt and "
		       "reminder.html. Empty: /etc/platctl/notify (where make install puts them). A "
		       "template missing there is taken from the built-in copy.",
	},
	[PLAT_CFG_NOTIFY_HEARTBEAT_URL] = {
		.name = "notify.heartbeat_url",
		.type = PLAT_CFG_T_STRING,
		.flags = PLAT_CFG_SECRET | PLAT_CFG_SECRET_URL, /* the token is often in the path; a password too */
		.validate = plat_cfg_validate_http_url,
		.section = "notify",
		.doc = "GET at the end of every successful compliance run, so that a monitor "
		       "(healthchecks.io and the like) notices a timer that stopped. Empty: none.",
		.example = "https://hc-ping.com/your-check-uuid",
	},
	[PLAT_CFG_COMPLIANCE_RULES] = {
		.name = "compliance.rules",
		.type = PLAT_CFG_T_STRING,
		.default_value = "/etc/platctl/compliance.d",
		.section = "compliance",
		.doc = "The compliance rules: a directory whose *.yaml files are read in name order, "
		       "or one file (platctl-rules(5)). 'platctl compliance validate' checks them.",
	},
	[PLAT_CFG_COMPLIANCE_SIGNING_KEY] = {
		.name = "compliance.signing_key",
		.type = PLAT_CFG_T_STRING,
		.section = "compliance",
		.doc = "Ed25519 private key (PEM, mode 0600) that signs destruction certificates "
		       "(compliance certificate). Anyone holding its public key, which every "
		       "certificate carries, can verify one offline.",
		.example = "/etc/platctl/compliance-signing.pem",
	},
	[PLAT_CFG_AUTH_KEYS] = {
		.name = "auth.keys",
		.type = PLAT_CFG_T_STRING,
		.section = "auth",
		.doc = "Ed25519 private keys (PEM, mode 0600) that sign local access tokens: a directory "
		       "of *.pem files or a comma-separated list of files. The key whose file name sorts "
		       "last signs; all of them verify, so a retired key's file is deleted only once "
		       "auth.access_token_ttl has passed.",
		.example = "/etc/platctl/keys",
	},
	[PLAT_CFG_AUTH_ISSUER] = {
		.name = "auth.issuer",
		.type = PLAT_CFG_T_STRING,
		.default_value = "platctl",
		.section = "auth",
		.doc = "iss of the access tokens platctl signs, and the only one it accepts on them.",
		.example = "https://platctl.example.com",
	},
	[PLAT_CFG_AUTH_AUDIENCE] = {
		.name = "auth.audience",
		.type = PLAT_CFG_T_STRING,
		.default_value = "platctl",
		.section = "auth",
		.doc = "aud of the access tokens platctl signs, and the only one it accepts on them.",
	},
	[PLAT_CFG_AUTH_ACCESS_TOKEN_TTL] = {
		.name = "auth.access_token_ttl",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "15m",
		.min = 60 * 1000, .max = 24 * 3600 * 1000LL,
		.section = "auth",
		.doc = "Lifetime of a local access token.",
	},
	[PLAT_CFG_AUTH_REFRESH_TOKEN_TTL] = {
		.name = "auth.refresh_token_ttl",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "720h",
		.min = 3600 * 1000LL, .max = 8760 * 3600 * 1000LL,
		.section = "auth",
		.doc = "Lifetime of a refresh token; each refresh gets a new one.",
	},
	[PLAT_CFG_AUTH_LEEWAY] = {
		.name = "auth.leeway",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "30s",
		.min = 0, .max = 300 * 1000,
		.section = "auth",
		.doc = "Clock skew allowed on a token's exp, nbf and iat (local and OIDC tokens).",
	},

	[PLAT_CFG_AUTH_OIDC_ISSUER] = {
		.name = "auth.oidc.issuer",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_http_url,
		.section = "auth",
		.doc = "External OIDC issuer whose access tokens are accepted (iss, exactly). Unset: none.",
		.example = "https://login.example.com/realms/acme",
	},
	[PLAT_CFG_AUTH_OIDC_AUDIENCE] = {
		.name = "auth.oidc.audience",
		.type = PLAT_CFG_T_STRING,
		.section = "auth",
		.doc = "aud the issuer's tokens must carry for platctl (exactly, or in the aud array).",
		.example = "platctl-api",
	},
	[PLAT_CFG_AUTH_OIDC_JWKS_URL] = {
		.name = "auth.oidc.jwks_url",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_jwks_url,
		.section = "auth",
		.doc = "Where the issuer publishes its signing keys (JWKS); file:/// for a copy on disk.",
		.example = "https://login.example.com/realms/acme/protocol/openid-connect/certs",
	},
	[PLAT_CFG_AUTH_OIDC_REFETCH_INTERVAL] = {
		.name = "auth.oidc.refetch_interval",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "60s",
		.min = 1000, .max = 3600 * 1000,
		.section = "auth",
		.doc = "Least time between two fetches of the JWKS: a token with an unknown kid fetches it "
		       "again (the issuer rotated), but not more often than this.",
	},

	[PLAT_CFG_AUTH_OIDC_TENANT_CLAIM] = {
		.name = "auth.oidc.tenant_claim",
		.type = PLAT_CFG_T_STRING,
		.default_value = "tenant",
		.section = "auth",
		.doc = "Claim that names the tenant (a tenant name).",
	},
	[PLAT_CFG_AUTH_OIDC_DEFAULT_TENANT] = {
		.name = "auth.oidc.default_tenant",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_slug_or_empty,
		.section = "auth",
		.doc = "Tenant of a token without the tenant claim. Unset: such tokens are refused.",
		.example = "default",
	},
	[PLAT_CFG_AUTH_OIDC_ROLE_CLAIM] = {
		.name = "auth.oidc.role_claim",
		.type = PLAT_CFG_T_STRING,
		.default_value = "role",
		.section = "auth",
		.doc = "Claim that gives the role: a string or an array of strings (groups, roles).",
		.example = "groups",
	},
	[PLAT_CFG_AUTH_OIDC_ROLE_MAP] = {
		.name = "auth.oidc.role_map",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_role_map,
		.section = "auth",
		.doc = "EXTERNAL=ROLE,...: the first entry whose EXTERNAL value the role claim holds gives "
		       "the role. Unset: the claim holds platctl role names themselves.",
		.example = "platctl-admins=admin,platctl-editors=editor,staff=viewer",
	},
	[PLAT_CFG_AUTH_OIDC_DEFAULT_ROLE] = {
		.name = "auth.oidc.default_role",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_role_or_empty,
		.section = "auth",
		.doc = "Role of a token whose claim maps to none. Unset: such tokens are refused.",
		.example = "viewer",
	},
	[PLAT_CFG_SERVER_RATE_LIMIT] = {
		.name = "server.rate_limit",
		.type = PLAT_CFG_T_INT,
		.default_value = "50",
		.min = 0, .max = 1000000,
		.section = "server",
		.doc = "Requests per second each principal may make to platctl serve, on average (a token "
		       "bucket per principal and tenant); more is 429 with Retry-After. 0: no limit.",
	},
	[PLAT_CFG_SERVER_RATE_BURST] = {
		.name = "server.rate_burst",
		.type = PLAT_CFG_T_INT,
		.default_value = "100",
		.min = 1, .max = 1000000,
		.section = "server",
		.doc = "Requests a principal may make at once before server.rate_limit applies.",
	},
	[PLAT_CFG_SERVER_CORS_ORIGINS] = {
		.name = "server.cors_origins",
		.type = PLAT_CFG_T_STRING,
		.section = "server",
		.doc = "Origins browsers may call the API from, comma-separated and exact "
		       "(https://app.example.com). Empty: none (no CORS headers at all).",
		.example = "https://app.example.com",
	},
	[PLAT_CFG_SERVER_DOCS_DIR] = {
		.name = "server.docs_dir",
		.type = PLAT_CFG_T_STRING,
		.section = "server",
		.doc = "Where Swagger UI's files for GET /docs are (make install puts them in "
		       "PREFIX/share/platctl/docs). Unset: that directory.",
		.example = "/usr/share/platctl/docs",
	},
	[PLAT_CFG_SERVER_CACHE_ENTRIES] = {
		.name = "server.cache_entries",
		.type = PLAT_CFG_T_INT,
		.default_value = "10000",
		.min = 0, .max = 10000000,
		.section = "server",
		.doc = "Token lookups, tenant ids and document rows each instance keeps in memory (a "
		       "document row is a few kilobytes), invalidated through the database's "
		       "notifications so that every instance sees a change as soon as it commits. 0 turns "
		       "the cache off.",
	},
	[PLAT_CFG_SERVER_CONTENT_REDIRECT] = {
		.name = "server.content_redirect",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "0s",
		.min = 0, .max = 7 * 24 * 3600 * 1000LL,
		.section = "server",
		.doc = "On S3 storage: answer GET /v1/documents/{id}/content with 302 to a presigned URL "
		       "valid this long (5m, say), so that the bytes go from S3 to the client directly. 0: "
		       "stream them through the server, verified against their sha256 (always so on file "
		       "storage, and when the request asks redirect=false).",
	},
	[PLAT_CFG_SERVER_URL] = {
		.name = "server.url",
		.type = PLAT_CFG_T_STRING,
		.validate = plat_cfg_validate_http_url,
		.section = "server",
		.doc = "Remote mode: the base URL of a platctl server (https://platctl.example.com). When "
		       "set, commands call its REST API with the token platctl login stored for it (or "
		       "$PLATCTL_TOKEN) instead of the database and storage. Usually set in a profile, by "
		       "platctl login --server.",
		.example = "https://platctl.example.com",
	},
	[PLAT_CFG_SERVER_CACHE_TTL] = {
		.name = "server.cache_ttl",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "30s",
		.min = 1000, .max = 3600 * 1000,
		.section = "server",
		.doc = "The longest a cached entry lives, notification or not; it also bounds how late an "
		       "API token's last use is recorded.",
	},
	[PLAT_CFG_WEBHOOKS_ATTEMPTS] = {
		.name = "webhooks.attempts",
		.type = PLAT_CFG_T_INT,
		.default_value = "8",
		.min = 1, .max = 50,
		.section = "webhooks",
		.doc = "Tries per webhook delivery (platctl-webhook(1)) before it is marked failed. Connection "
		       "errors, timeouts, HTTP 408, 425, 429 and 5xx are retried; other replies are not. Each "
		       "try may take notify.webhook.timeout.",
	},
	[PLAT_CFG_WEBHOOKS_BACKOFF] = {
		.name = "webhooks.backoff",
		.type = PLAT_CFG_T_DURATION,
		.default_value = "30s",
		.min = 100, .max = 3600 * 1000,
		.section = "webhooks",
		.doc = "The wait before a webhook delivery's second try; doubled per try up to an hour, "
		       "jittered, and never shorter than the receiver's Retry-After (up to an hour). The "
		       "default's eight tries span about an hour.",
	},
	[PLAT_CFG_TENANT] = {
		.name = "tenant",
		.type = PLAT_CFG_T_STRING,
		.default_value = "default",
		.validate = plat_cfg_validate_slug,
		.section = "identity",
		.doc = "Tenant that direct-mode commands act in.",
	},
	[PLAT_CFG_PRINCIPAL] = {
		.name = "principal",
		.type = PLAT_CFG_T_STRING,
		.default_fn = plat_cfg_os_user_name,
		.validate = plat_cfg_validate_principal,
		.section = "identity",
		.doc = "Principal recorded on every row direct-mode commands write. Default: the OS user name.",
		.example = "ops-team",
	},
	[PLAT_CFG_LOG_LEVEL] = {
		.name = "log.level",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "warn",
		.choices = plat_cfg_log_levels,
		.section = "logging",
		.doc = "Least severe level written to stderr. -v raises it one step per use; -q sets error.",
	},
	[PLAT_CFG_LOG_FORMAT] = {
		.name = "log.format",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "auto",
		.choices = plat_cfg_log_formats,
		.section = "logging",
		.doc = "json: one JSON object per line; text: logfmt-like; auto: text when stderr is a terminal, else json.",
	},
	[PLAT_CFG_OUTPUT_FORMAT] = {
		.name = "output.format",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "table",
		.choices = plat_cfg_output_formats,
		.section = "output",
		.doc = "Format of data printed on stdout (the -o option). ids prints only the id of each "
		       "object, one per line, for scripts.",
	},
	[PLAT_CFG_COLOR] = {
		.name = "color",
		.type = PLAT_CFG_T_ENUM,
		.default_value = "auto",
		.choices = plat_cfg_color_modes,
		.section = "output",
		.doc = "Colour on terminals. NO_COLOR in the environment and --no-color mean never.",
	},
};

const struct plat_config_key_def *plat_config_key_def(enum plat_config_key key)
{
	return (unsigned)key < PLAT_CFG__COUNT ? &key_table[key] : NULL;
}
