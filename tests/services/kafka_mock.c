/* A Kafka cluster for tests: librdkafka's mock cluster (rdkafka_mock.h) in a process of its
 * own, so platctl processes reach it over TCP like a real cluster.
 *
 *   kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...
 *
 * Prints "BOOTSTRAP host:port,..." on stdout once the brokers listen, then serves until
 * SIGTERM/SIGINT. SIGUSR1 takes every broker down (connections refused and dropped),
 * SIGUSR2 brings them back: an outage a test can switch on and off. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void usage(void)
{
	fprintf(stderr, "usage: kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int brokers = 3;
	const char *topics[32];
	int n_topics = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc)
			brokers = atoi(argv[++i]);
		else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc && n_topics < 32)
			topics[n_topics++] = argv[++i];
		else
			usage();
	}
	if (brokers < 1 || brokers > 16)
		usage();

	/* librdkafka's threads inherit this mask, so the signals reach sigwait() below only. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "kafka-mock: could not create the mock cluster\n");
		return 1;
	}
	for (int i = 0; i < n_topics; i++) {
		char name[256];
		int parts = 1;
		const char *colon = strrchr(topics[i], ':');
		if (colon) {
			snprintf(name, sizeof(name), "%.*s", (int)(colon - topics[i]), topics[i]);
			parts = atoi(colon + 1);
		} else {
			snprintf(name, sizeof(name), "%s", topics[i]);
		}
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts < 1 ? 1 : parts,
								   brokers < 3 ? brokers : 3);
		if (e) {
			fprintf(stderr, "kafka-mock: topic %s: %s\n", name, rd_kafka_err2str(e));
			return 1;
		}
	}
	printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			for (int b = 1; b <= brokers; b++)
				rd_kafka_mock_broker_set_down(mc, b);
			fprintf(stderr, "kafka-mock: brokers down\n");
		} else if (sig == SIGUSR2) {
			for (int b = 1; b <= brokers; b++)
				rd_kafka_mock_broker_set_up(mc, b);
			fprintf(stderr, "kafka-mock: brokers up\n");
		} else {
			break;
		}
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
