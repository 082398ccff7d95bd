/* Processing one document: download and verify the content, extract pages (sandboxed),
 * classify, extract fields, summarise, chunk, embed, and save everything with the status,
 * stage timings and the provider used in one transaction, with a document.processed
 * event. Idempotent: a document already processed by this pipeline version is skipped. */
#ifndef PLAT_PIPELINE_H
#define PLAT_PIPELINE_H

#include <stdbool.h>

#include "ai/ai.h"
#include "ai/builtin.h"
#include "documents/documents.h"
#include "metrics/metrics.h"
#include "sandbox/sandbox.h"

/* 2: chunks carry title, section path and anchor, and PDF running headers leave their text.
 * 3: PDF words broken at line ends are mended, ligatures are letters, and a PDF without an
 * Info title is titled by its cover's largest type, not its outline's first entry.
 * A document processed by an older version is processed again when it is retried. */
#define PLAT_PIPELINE_VERSION 3

struct plat_pipeline {
	struct plat_svc *svc;          /* db, store, tenant, principal, request id */
	struct plat_ai *chat;          /* NULL: builtin */
	struct plat_ai *embeddings;    /* NULL: builtin */
	const struct plat_taxonomy *taxonomy;
	const char *external_allow;    /* ai.external.allow */
	bool external_allow_pii;
	struct plat_sandbox_limits limits;
	int chunk_tokens;              /* 0: 200 */
	int chunk_overlap;             /* 0: 30 */
	struct plat_metrics *metrics;  /* NULL: none; else stage latencies (below) */
};

/* Histogram of stage latencies, label stage = download, extract, classify_extract,
 * summarise, chunk, embed, total. Describe it in the registry before processing. */
#define PLAT_PIPELINE_STAGE_METRIC "platctl_pipeline_stage_seconds"

enum plat_pipeline_outcome {
	PLAT_PIPELINE_PROCESSED,
	PLAT_PIPELINE_SKIPPED, /* already processed by this pipeline version, or deleted */
};

/* On failure the document is marked failed with the error, and the error is returned
 * (PLAT_E_UNAVAILABLE for transient causes the caller may retry). */
int plat_pipeline_process(struct plat_pipeline *p, const char *document_id, enum plat_pipeline_outcome *outcome,
			  struct plat_error *err);

/* Mark the document failed with why (unless another worker processed it meanwhile): for
 * a document whose attempts all ended without a result (the worker crashed or was killed). */
void plat_pipeline_give_up(struct plat_pipeline *p, const char *document_id, const char *why);

#endif
