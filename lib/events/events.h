/* Document events on Kafka (events.backend: kafka).
 *
 * The outbox table stays the source of truth: a row is written in the same transaction as
 * the change it announces, then published here; a row counts as published only when the
 * broker confirmed it (delivery report), and rows still unconfirmed are published again
 * later by consume's sweeper. So a broker outage delays events but never loses one.
 *
 * Producer: librdkafka's idempotent producer (enable.idempotence), key = document id,
 * headers event_type, tenant_id, request_id, outbox_id. Every message gets a delivery
 * report within message.timeout.ms; callers wait for theirs and count failures.
 * Consumer: one group member per worker thread; offsets are stored only after the event's
 * work committed (enable.auto.offset.store=false) and committed on close. */
#ifndef PLAT_EVENTS_H
#define PLAT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "db/db.h"
#include "error/error.h"

enum plat_events_backend { PLAT_EVENTS_POSTGRES, PLAT_EVENTS_KAFKA };

/* events.backend, with auto resolved: kafka when brokers are configured. */
enum plat_events_backend plat_events_backend(const struct plat_config *cfg);

struct plat_kafka_options {
	const char *brokers;
	const char *topic;
	const char *dead_letter_topic;
	const char *group;
	int session_timeout_ms;
	int message_timeout_ms; /* producer: every message is reported by then */
	const char *client_id;
};

void plat_kafka_options_for(const struct plat_config *cfg, struct plat_kafka_options *o);

struct plat_publisher;

struct plat_publish_counts {
	long long published; /* confirmed by the broker and marked in the outbox */
	long long failed;    /* not confirmed: stays unpublished for the sweeper */
};

/* Which unpublished outbox rows to publish; empty fields do not filter. */
struct plat_outbox_filter {
	const char *request_id;
	const char *aggregate_id;
	const char *event_type;
	long long older_than_ms; /* only rows created at least this long ago */
	int limit;               /* default 1000 */
};

int plat_publisher_open(const struct plat_kafka_options *o, struct plat_publisher **out, struct plat_error *err);
void plat_publisher_close(struct plat_publisher *p);

/* Publish the matching unpublished rows, wait for their delivery reports, mark the confirmed
 * ones published. Safe to call from several threads on one publisher. */
int plat_publish_outbox(struct plat_publisher *p, struct plat_db *db, const struct plat_outbox_filter *f,
			struct plat_publish_counts *counts, struct plat_error *err);

struct plat_header {
	const char *name;
	const char *value;
};

/* One message, waited for: 0 once the broker confirmed it. */
int plat_publish_message(struct plat_publisher *p, const char *topic, const char *key, const char *value,
			 size_t len, const struct plat_header *headers, size_t n_headers, struct plat_error *err);

struct plat_subscriber;
struct plat_kafka_event;

/* A copy of a consumed event for the dead-letter topic, with headers error, attempts,
 * source_partition and source_offset next to the event's own; waited for. */
int plat_publish_dead_letter(struct plat_publisher *p, const char *topic, const struct plat_kafka_event *ev,
			     const char *error, int attempts, struct plat_error *err);
/* The event's outbox row marked dead-lettered with the error (documents retry starts it
 * over); outbox_id 0 (an event from elsewhere) does nothing. */
int plat_outbox_dead_lettered(struct plat_db *db, long long outbox_id, const char *error, struct plat_error *err);

struct plat_kafka_event {
	char event_type[64];
	char tenant_id[37];
	char document_id[37];
	char request_id[65];
	long long outbox_id;
	double age_seconds; /* since the message was produced: the consumer's lag */
	/* the message itself, for the dead-letter copy */
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
	int partition;
	long long offset;
	void *msg; /* rd_kafka_message_t *, owned until plat_subscriber_release */
};

int plat_subscriber_open(const struct plat_kafka_options *o, struct plat_subscriber **out, struct plat_error *err);
/* The next message; *got false when none arrived within timeout_ms. */
int plat_subscriber_next(struct plat_subscriber *s, int timeout_ms, struct plat_kafka_event *ev, bool *got,
			 struct plat_error *err);
/* Store the event's offset: call only after its work committed. Releases the message. */
int plat_subscriber_done(struct plat_subscriber *s, struct plat_kafka_event *ev, struct plat_error *err);
/* Release without storing: the event will be delivered again. The partition is sought back
 * to it, so the next poll gives it again (and no later event of the partition can store
 * an offset past it); if the partition went to another member meanwhile, that one starts
 * before it. Releases the message. */
void plat_subscriber_release(struct plat_subscriber *s, struct plat_kafka_event *ev);
/* Commit what is stored, then true when the group's committed offset reached the end of
 * every partition of the topic (nothing left for anyone in the group). */
int plat_subscriber_drained(struct plat_subscriber *s, bool *drained, struct plat_error *err);
/* Commit stored offsets, leave the group (rd_kafka_consumer_close), free. */
void plat_subscriber_close(struct plat_subscriber *s);

#endif
