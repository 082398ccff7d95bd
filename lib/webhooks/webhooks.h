/* Webhooks: a tenant's subscriptions to the events of the live feed (document status
 * changes, findings), delivered as signed POSTs (platctl-notify(7): the same signature as
 * the compliance notifications) by platctl serve.
 *
 * Deliveries are rows queued in the same transaction as their event (migration 0013), so
 * none is lost to a crash and none is sent for a change that rolled back. Each one is tried
 * until a 2xx, a refusal, or webhooks.attempts tries, with exponential backoff from
 * webhooks.backoff between tries; its id (X-Platctl-Delivery) stays the same over the tries
 * so that a receiver can drop repeats. The rows are the delivery log; a redelivery is a new
 * delivery of the same body. */
#ifndef PLAT_WEBHOOKS_H
#define PLAT_WEBHOOKS_H

#include <cjson/cJSON.h>

#include "error/error.h"
#include "svc/svc.h"

/* The event types a webhook may subscribe to ("*": all of them), NULL-terminated. */
extern const char *const plat_webhook_events[];

struct plat_new_webhook {
	const char *url;         /* http:// or https:// */
	const char *events;      /* comma-separated event types, or "*" */
	const char *description; /* NULL: none */
};

/* {id, url, events: [...], description, created_at, created_by, secret}: "secret" (whsec_
 * and 64 hex digits) is the signing key, in this response only. Operation webhook.add. */
int plat_webhooks_add(struct plat_svc *svc, const struct plat_new_webhook *nw, cJSON **out, struct plat_error *err);
/* [{id, url, events, description, created_at, created_by, pending, failed, last_delivery_at,
 * last_status}] where url has no password or query string. Operation webhook.list. */
int plat_webhooks_list(struct plat_svc *svc, cJSON **out, struct plat_error *err);
/* Delete a webhook and its delivery log; its pending deliveries are not sent. Returns the
 * webhook as list shows it. Operation webhook.delete. */
int plat_webhooks_delete(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err);

struct plat_webhook_delivery_filter {
	const char *webhook_id; /* NULL: every webhook's */
	const char *status;     /* NULL, pending, delivering, delivered or failed */
	int limit;              /* 0: 100 */
};

/* The newest deliveries first: [{id, webhook_id, event_id, event, status, attempts,
 * last_status, last_error, created_at, next_at, finished_at, redelivery_of}]. Operation
 * webhook.deliveries. */
int plat_webhooks_deliveries(struct plat_svc *svc, const struct plat_webhook_delivery_filter *f, cJSON **out,
			     struct plat_error *err);
/* Queue the body of delivery id again as a new delivery (a new id, redelivery_of the old
 * one), due now; returns it as deliveries shows it. Operation webhook.redeliver. */
int plat_webhooks_redeliver(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err);

/* ---- for the deliverer and the tests ---- */

/* Parse a comma-separated list of event types into a JSON array of distinct names (or
 * ["*"]). PLAT_E_USAGE naming the first unknown one. */
int plat_webhooks_parse_events(const char *list, cJSON **out, struct plat_error *err);
/* NULL when url is an absolute http(s) URL with a host and no fragment, else what is wrong. */
const char *plat_webhooks_url_problem(const char *url);
/* The wait before try number attempt + 1 after attempt failed: base_ms doubled per try, up
 * to an hour, less up to a fifth at random (jitter in [0, 1)); at least retry_after_ms
 * (what the receiver asked, up to an hour). */
long long plat_webhooks_backoff_ms(long long base_ms, int attempt, long long retry_after_ms, double jitter);

/* The delivery loop of platctl serve: one thread with its own database connection that
 * LISTENs for new deliveries, claims the due ones (shared with other instances), sends
 * them and records the outcome. It connects and reconnects on its own. */
struct plat_webhook_deliverer;
int plat_webhooks_deliverer_start(struct plat_services *services, struct plat_webhook_deliverer **out,
				  struct plat_error *err);
/* Stop after the delivery in flight (its outcome is recorded) and free. */
void plat_webhooks_deliverer_stop(struct plat_webhook_deliverer *d);

#endif
