/* A Kafka cluster for tests: librdkafka's mock cluster (rdkafka_mock.h) in a process of its
 * own, so platctl processes reach it over TCP like a real cluster.
 *
 *   kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--control FILE]
 *
 * Prints "BOOTSTRAP host:port,..." on stdout once the brokers listen, then serves until
 * SIGTERM/SIGINT. SIGUSR1 takes every broker down (connections refused and dropped),
 * SIGUSR2 brings them back: an outage a test can switch on and off.
 *
 * SIGHUP runs the commands in the control FILE, one a line, then renames it FILE.done:
 *   leader TOPIC PARTITION BROKER   the partition's leader; BROKER -1 leaves it without one,
 *                                   so produce requests to it wait and time out (a broker
 *                                   that refuses one topic while the others work)
 *   down | up                       every broker, as SIGUSR1 / SIGUSR2 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void usage(void)
{
	fprintf(stderr, "usage: kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--control FILE]\n");
	exit(2);
}

static void set_all(rd_kafka_mock_cluster_t *mc, int brokers, int up)
{
	for (int b = 1; b <= brokers; b++) {
		if (up)
			rd_kafka_mock_broker_set_up(mc, b);
		else
			rd_kafka_mock_broker_set_down(mc, b);
	}
	fprintf(stderr, "kafka-mock: brokers %s\n", up ? "up" : "down");
}

static void run_control(rd_kafka_mock_cluster_t *mc, int brokers, const char *path)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f) {
		fprintf(stderr, "kafka-mock: no control file\n");
		return;
	}
	char line[512], topic[256];
	int partition, broker;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "leader %255s %d %d", topic, &partition, &broker) == 3) {
			rd_kafka_resp_err_t e = rd_kafka_mock_partition_set_leader(mc, topic, partition, broker);
			fprintf(stderr, "kafka-mock: leader of %s [%d] is %d: %s\n", topic, partition, broker,
				rd_kafka_err2str(e));
		} else if (strncmp(line, "down", 4) == 0) {
			set_all(mc, brokers, 0);
		} else if (strncmp(line, "up", 2) == 0) {
			set_all(mc, brokers, 1);
		} else if (line[0] != '\n') {
			fprintf(stderr, "kafka-mock: unknown control command: %s", line);
		}
	}
	fclose(f);
	char done[4096];
	snprintf(done, sizeof(done), "%s.done", path);
	rename(path, done);
}

int main(int argc, char **argv)
{
	int brokers = 3;
	const char *topics[32], *control = NULL;
	int n_topics = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc)
			brokers = atoi(argv[++i]);
		else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc && n_topics < 32)
			topics[n_topics++] = argv[++i];
		else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			control = argv[++i];
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
	sigaddset(&set, SIGHUP);
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
			set_all(mc, brokers, 0);
		} else if (sig == SIGUSR2) {
			set_all(mc, brokers, 1);
		} else if (sig == SIGHUP) {
			run_control(mc, brokers, control);
		} else {
			break;
		}
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
