/* test_mqtt_publisher.c - the MQTT publisher against a real mosquitto broker on a loopback port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "common/clock.h"
#include "common/complain.h"
#include "publish/ha_discovery.h"
#include "publish/mqtt_publisher.h"
#include "publish/spool.h"

#define MOSQUITTO "/usr/sbin/mosquitto"

static const char *self_path; /* argv[0], to start the will-test child */

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- the broker ---- */

struct broker {
	char dir[64];
	char conf[96];
	int port;
	int port2; /* a second (TLS) listener, 0 if none */
	pid_t pid;
};

/* A port that was free a moment ago: bind port 0 and read what the kernel chose. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Writes the broker config: a plain listener on port, then extra (NULL: anonymous access). */
static void broker_write_conf(struct broker *b, const char *extra)
{
	FILE *f = fopen(b->conf, "w");
	assert_non_null(f);
	fprintf(f,
		"per_listener_settings false\nlistener %d 127.0.0.1\npersistence false\n"
		"log_dest stderr\n%s",
		b->port, extra ? extra : "allow_anonymous true\n");
	fclose(f);
}

static void broker_prepare(struct broker *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/auscult-mqtt-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	/* mosquitto drops root privileges; let it write its log here. */
	chmod(b->dir, 0777);
	snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
	b->port = free_port();
	broker_write_conf(b, NULL);
}

static void broker_start(struct broker *b)
{
	char log_path[128];
	snprintf(log_path, sizeof(log_path), "%s/mosquitto.log", b->dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(MOSQUITTO, MOSQUITTO, "-c", b->conf, (char *)NULL);
		_exit(127);
	}
	b->pid = pid;
	for (int i = 0; i < 500 && !port_open(b->port); i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			b->pid = 0;
			fail_msg("mosquitto exited at start; see %s", log_path);
		}
		sleep_ms(10);
	}
	assert_true(port_open(b->port));
}

static void broker_stop(struct broker *b)
{
	if (b->pid <= 0)
		return;
	kill(b->pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = 0;
}

static void broker_cleanup(struct broker *b)
{
	broker_stop(b);
	DIR *d = opendir(b->dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char path[400];
			snprintf(path, sizeof(path), "%s/%s", b->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(b->dir);
}

/* ---- a subscriber that records what arrives ---- */

struct rx {
	char topic[160];
	char payload[2048];
	int retained;
};

struct sub {
	MQTTAsync c;
	pthread_mutex_t lock;
	struct rx *msgs;
	size_t n, cap;
	int connected, subscribed, failed;
};

static int sub_arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	(void)topic_len;
	struct sub *s = ctx;
	pthread_mutex_lock(&s->lock);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->msgs = realloc(s->msgs, s->cap * sizeof(*s->msgs));
	}
	if (s->msgs) {
		struct rx *r = &s->msgs[s->n++];
		snprintf(r->topic, sizeof(r->topic), "%s", topic);
		int n = m->payloadlen < (int)sizeof(r->payload) - 1 ? m->payloadlen
								    : (int)sizeof(r->payload) - 1;
		memcpy(r->payload, m->payload, (size_t)n);
		r->payload[n] = '\0';
		r->retained = m->retained;
	}
	pthread_mutex_unlock(&s->lock);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void sub_on_connect(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	struct sub *s = ctx;
	pthread_mutex_lock(&s->lock);
	s->connected = 1;
	pthread_mutex_unlock(&s->lock);
}

static void sub_on_subscribe(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	struct sub *s = ctx;
	pthread_mutex_lock(&s->lock);
	s->subscribed = 1;
	pthread_mutex_unlock(&s->lock);
}

static void sub_on_failure(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	struct sub *s = ctx;
	pthread_mutex_lock(&s->lock);
	s->failed = 1;
	pthread_mutex_unlock(&s->lock);
}

static int sub_flag(struct sub *s, const int *flag)
{
	pthread_mutex_lock(&s->lock);
	int v = *flag;
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void sub_start_auth(struct sub *s, int port, const char *filter, const char *user,
			   const char *pass)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	char uri[64], id[64];
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	static int counter;
	snprintf(id, sizeof(id), "test-sub-%d-%d", (int)getpid(), ++counter);
	assert_int_equal(MQTTAsync_create(&s->c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
			 MQTTASYNC_SUCCESS);
	MQTTAsync_setCallbacks(s->c, s, NULL, sub_arrived, NULL);
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	co.cleansession = 1;
	co.keepAliveInterval = 30;
	co.username = user;
	co.password = pass;
	co.onSuccess = sub_on_connect;
	co.onFailure = sub_on_failure;
	co.context = s;
	assert_int_equal(MQTTAsync_connect(s->c, &co), MQTTASYNC_SUCCESS);
	for (int i = 0; i < 500 && !sub_flag(s, &s->connected) && !sub_flag(s, &s->failed); i++)
		sleep_ms(10);
	assert_true(sub_flag(s, &s->connected));
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.onSuccess = sub_on_subscribe;
	ro.onFailure = sub_on_failure;
	ro.context = s;
	assert_int_equal(MQTTAsync_subscribe(s->c, filter, 1, &ro), MQTTASYNC_SUCCESS);
	for (int i = 0; i < 500 && !sub_flag(s, &s->subscribed) && !sub_flag(s, &s->failed); i++)
		sleep_ms(10);
	assert_true(sub_flag(s, &s->subscribed));
}

static void sub_start(struct sub *s, int port, const char *filter)
{
	sub_start_auth(s, port, filter, NULL, NULL);
}

static void sub_stop(struct sub *s)
{
	if (!s->c)
		return;
	MQTTAsync_destroy(&s->c);
	free(s->msgs);
	pthread_mutex_destroy(&s->lock);
	memset(s, 0, sizeof(*s));
}

static void sub_publish(struct sub *s, const char *topic, const char *payload, int retained)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = (void *)(uintptr_t)payload;
	m.payloadlen = (int)strlen(payload);
	m.qos = 1;
	m.retained = retained;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	assert_int_equal(MQTTAsync_sendMessage(s->c, topic, &m, &ro), MQTTASYNC_SUCCESS);
	assert_int_equal(MQTTAsync_waitForCompletion(s->c, ro.token, 5000), MQTTASYNC_SUCCESS);
}

/* Messages received on topic so far; copies up to max into out (may be NULL). */
static size_t sub_collect(struct sub *s, const char *topic, struct rx *out, size_t max)
{
	size_t k = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->msgs[i].topic, topic) != 0)
			continue;
		if (out && k < max)
			out[k] = s->msgs[i];
		k++;
	}
	pthread_mutex_unlock(&s->lock);
	return k;
}

static void sub_clear(struct sub *s)
{
	pthread_mutex_lock(&s->lock);
	s->n = 0;
	pthread_mutex_unlock(&s->lock);
}

/* Waits (polling p when given) until topic has at least count messages; bounded. */
static bool sub_wait(struct sub *s, struct mqtt_publisher *p, const char *topic, size_t count,
		     int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 10) {
		if (sub_collect(s, topic, NULL, 0) >= count)
			return true;
		if (p)
			mqtt_publisher_poll(p);
		sleep_ms(10);
	}
	return sub_collect(s, topic, NULL, 0) >= count;
}

/* ---- publisher helpers ---- */

struct fixture {
	struct broker broker;
	struct sub sub, sub2;
	struct mqtt_publisher *pub;
};

static void settings_for(struct mqtt_settings *s, char *uri, size_t uri_cap, int port,
			 const char *prefix)
{
	memset(s, 0, sizeof(*s));
	snprintf(uri, uri_cap, "mqtt://127.0.0.1:%d", port);
	s->uri = uri;
	s->client_id = (char *)(uintptr_t) "auscult-test";
	s->keepalive_s = 10;
	s->qos = 0;
	s->topic_prefix = (char *)(uintptr_t)prefix;
	s->offline_buffer = 1000;
	s->spool_max_mb = 64;
	s->verify_server = true;
	s->ha_discovery = false;
	s->ha_prefix = (char *)(uintptr_t) "homeassistant";
}

static void pump(struct mqtt_publisher *p, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		mqtt_publisher_poll(p);
		sleep_ms(10);
	}
}

static bool pump_until_connected(struct mqtt_publisher *p, int timeout_ms)
{
	for (int t = 0; t < timeout_ms && !mqtt_publisher_connected(p); t += 10) {
		mqtt_publisher_poll(p);
		sleep_ms(10);
	}
	return mqtt_publisher_connected(p);
}

static bool pump_until_flushed(struct mqtt_publisher *p, int timeout_ms)
{
	struct mqtt_publisher_stats st;
	for (int t = 0; t < timeout_ms; t += 10) {
		mqtt_publisher_poll(p);
		mqtt_publisher_stats(p, &st);
		if (st.queued == 0 && mqtt_publisher_connected(p))
			return true;
		sleep_ms(10);
	}
	return false;
}

/* Asserts that the messages on topic are exactly {"n":first} .. {"n":last}, in order. */
static void assert_numbered(struct rx *got, size_t n_got, int first, int last)
{
	assert_int_equal(n_got, (size_t)(last - first + 1));
	for (size_t i = 0; i < n_got; i++) {
		char want[32];
		snprintf(want, sizeof(want), "{\"n\":%d}", first + (int)i);
		if (strcmp(got[i].payload, want) != 0)
			fail_msg("message %zu is %s, expected %s", i, got[i].payload, want);
	}
}

/* What can be in flight when the connection drops: SEND_WINDOW in mqtt_publisher.c. */
#define MAX_IN_FLIGHT_REPEATS 32

/* The same across an outage, where delivery is at least once (docs/mqtt.md): a message the
 * broker took just before it went away may arrive again after it is back. Every number from
 * first to last must arrive, first seen in order; a repeat of one already seen is allowed, at
 * most max_repeats of them, and nothing may be missing or jump ahead. */
static void assert_numbered_at_least_once(struct rx *got, size_t n_got, int first, int last,
					  int max_repeats)
{
	int next = first, repeats = 0;
	for (size_t i = 0; i < n_got; i++) {
		int v;
		if (sscanf(got[i].payload, "{\"n\":%d}", &v) != 1)
			fail_msg("message %zu is %s, expected {\"n\":N}", i, got[i].payload);
		if (v == next)
			next++;
		else if (v >= first && v < next)
			repeats++;
		else
			fail_msg("message %zu is %s, expected {\"n\":%d} or a repeat", i,
				 got[i].payload, next);
	}
	if (next != last + 1)
		fail_msg("messages %d..%d never arrived", next, last);
	if (repeats > max_repeats)
		fail_msg("%d repeats, at most %d expected", repeats, max_repeats);
}

static void enqueue_numbered(struct mqtt_publisher *p, const char *suffix, int n,
			     enum message_class cls)
{
	char payload[32];
	snprintf(payload, sizeof(payload), "{\"n\":%d}", n);
	assert_int_equal(mqtt_publisher_enqueue(p, suffix, payload, cls), AUSCULT_OK);
}

static int setup_broker(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	broker_prepare(&f->broker);
	broker_start(&f->broker);
	*state = f;
	return 0;
}

static int setup_no_broker(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	broker_prepare(&f->broker);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f)
		return 0;
	mqtt_publisher_destroy(f->pub);
	sub_stop(&f->sub);
	sub_stop(&f->sub2);
	broker_cleanup(&f->broker);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void online_retained_events_in_order(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t1");
	sub_start(&f->sub, f->broker.port, "t1/#");
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	assert_true(sub_wait(&f->sub, f->pub, "t1/status", 1, 3000));

	for (int i = 1; i <= 100; i++) {
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
		if (i % 10 == 0)
			mqtt_publisher_poll(f->pub);
	}
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "anomaly", MESSAGE_STATE),
			 AUSCULT_OK);
	assert_true(pump_until_flushed(f->pub, 5000));
	assert_true(sub_wait(&f->sub, f->pub, "t1/pump/event", 100, 3000));
	struct rx *got = calloc(200, sizeof(*got));
	assert_non_null(got);
	size_t n = sub_collect(&f->sub, "t1/pump/event", got, 200);
	assert_numbered(got, n, 1, 100);

	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.sent, 101);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.reconnects, 0);

	/* A late subscriber gets the retained status and state, and no event (not retained). */
	sub_start(&f->sub2, f->broker.port, "t1/#");
	assert_true(sub_wait(&f->sub2, NULL, "t1/pump/state", 1, 3000));
	assert_int_equal(sub_collect(&f->sub2, "t1/status", got, 1), 1);
	assert_string_equal(got[0].payload, "online");
	assert_int_equal(got[0].retained, 1);
	assert_int_equal(sub_collect(&f->sub2, "t1/pump/state", got, 1), 1);
	assert_string_equal(got[0].payload, "anomaly");
	assert_int_equal(got[0].retained, 1);
	assert_int_equal(sub_collect(&f->sub2, "t1/pump/event", NULL, 0), 0);
	free(got);
}

static void will_says_offline_when_killed(void **state)
{
	struct fixture *f = *state;
	sub_start(&f->sub, f->broker.port, "t2/status");
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	char port[16];
	snprintf(port, sizeof(port), "%d", f->broker.port);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		/* A cross build's tests run under an emulator (tests/CMakeLists.txt): so must the child. */
		const char *emulator = getenv("AUSCULT_EMULATOR");
		if (emulator && *emulator)
			execl(emulator, emulator, self_path, "--will-child", port, "t2",
			      (char *)NULL);
		else
			execl(self_path, self_path, "--will-child", port, "t2", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
	char buf[16] = { 0 };
	bool ready = poll(&pfd, 1, 10000) == 1 && read(fds[0], buf, sizeof(buf) - 1) > 0;
	close(fds[0]);
	if (!ready) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		fail_msg("the will-test child did not connect within 10 s");
	}
	assert_true(sub_wait(&f->sub, NULL, "t2/status", 1, 3000));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_true(sub_wait(&f->sub, NULL, "t2/status", 2, 5000));
	struct rx got[2];
	assert_int_equal(sub_collect(&f->sub, "t2/status", got, 2), 2);
	assert_string_equal(got[0].payload, "online");
	assert_string_equal(got[1].payload, "offline");
}

static void broker_down_at_start_then_up(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t3");
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "normal", MESSAGE_STATE),
			 AUSCULT_OK);
	for (int i = 1; i <= 5; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "anomaly", MESSAGE_STATE),
			 AUSCULT_OK);
	pump(f->pub, 1500); /* two failed attempts, no crash, nothing lost */
	assert_false(mqtt_publisher_connected(f->pub));
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.queued, 6); /* 5 events + the latest state */

	broker_start(&f->broker);
	sub_start(&f->sub, f->broker.port, "t3/#");
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t3/pump/event", 5, 3000));
	struct rx got[8];
	size_t n = sub_collect(&f->sub, "t3/pump/event", got, 8);
	assert_numbered(got, n, 1, 5);
	assert_int_equal(sub_collect(&f->sub, "t3/pump/state", got, 8), 1);
	assert_string_equal(got[0].payload, "anomaly");
}

/* Events accepted while the broker is down survive the publisher (as a daemon killed and
 * started again): the next publisher on the same spool sends them, in order; then the spool is
 * empty. */
static void spool_outlives_the_publisher(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64], dir[] = "/tmp/test_pub_spool_XXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/events.spool", dir);
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t9");
	s.spool_dir = dir;
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	for (int i = 1; i <= 5; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	enqueue_numbered(f->pub, "pump/score", 1, MESSAGE_SCORE); /* never spooled */
	pump(f->pub, 300);
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_true(st.spool_on);
	assert_int_equal(st.spooled, 5);
	mqtt_publisher_destroy(f->pub); /* the broker never saw them */
	f->pub = NULL;

	broker_start(&f->broker);
	sub_start(&f->sub, f->broker.port, "t9/#");
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	enqueue_numbered(f->pub, "pump/event", 6, MESSAGE_EVENT);
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t9/pump/event", 6, 3000));
	struct rx got[8];
	size_t n = sub_collect(&f->sub, "t9/pump/event", got, 8);
	assert_numbered(got, n, 1, 6);
	assert_int_equal(sub_collect(&f->sub, "t9/pump/score", got, 8), 0);
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.spooled, 0);
	struct stat fst;
	assert_int_equal(stat(file, &fst), 0);
	assert_int_equal(fst.st_size, 0); /* compacted: everything was acknowledged */
	unlink(file);
	rmdir(dir);
}

/* A spool holding more than the outbox: the next publisher takes what the outbox holds and the
 * rest waits on disk; all of it is sent, in order, and nothing is dropped. */
static void spool_larger_than_outbox(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64], dir[] = "/tmp/test_pub_spool_XXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/events.spool", dir);
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t10");
	s.spool_dir = dir;
	s.offline_buffer = 20;
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	for (int i = 1; i <= 20; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	mqtt_publisher_destroy(f->pub);
	s.offline_buffer = 10; /* lowered before the restart */
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.spooled, 20);
	assert_int_equal(st.queued, 10);        /* the outbox holds the first ten */
	assert_int_equal(st.queued_events, 20); /* all of them wait */
	assert_int_equal(st.dropped_events, 0);
	broker_start(&f->broker);
	sub_start(&f->sub, f->broker.port, "t10/#");
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t10/pump/event", 20, 3000));
	struct rx got[24];
	size_t n = sub_collect(&f->sub, "t10/pump/event", got, 24);
	assert_numbered(got, n, 1, 20);
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.spooled, 0);
	assert_int_equal(st.queued_events, 0);
	unlink(file);
	rmdir(dir);
}

/* A long outage: with a spool, events beyond mqtt.offline_buffer wait on disk (scores still make
 * room first), survive a crash, and are all sent in order once the broker is back, by the same
 * publisher or by the next one. Without this, the outbox dropped the oldest and took them off the
 * disk too, so the spool never held more than offline_buffer messages. */
static void outbox_full_events_wait_on_disk(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64], dir[] = "/tmp/test_pub_spool_XXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/events.spool", dir);
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t15");
	s.spool_dir = dir;
	s.offline_buffer = 10;
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "normal", MESSAGE_STATE),
			 AUSCULT_OK);
	for (int i = 1; i <= 30; i++) {
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
		/* dropped (not an error to check) once the outbox holds only events and states */
		mqtt_publisher_enqueue(f->pub, "pump/score", "{}", MESSAGE_SCORE);
	}
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "anomaly", MESSAGE_STATE),
			 AUSCULT_OK);
	pump(f->pub, 200);
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.dropped_events, 0);
	assert_int_equal(st.queued_events, 30);
	assert_int_equal(st.spooled, 32); /* 30 events, 2 states */
	assert_int_equal(st.queued, 10);

	/* The daemon dies here (a crash: its spool is all that is left), and comes back. */
	mqtt_publisher_release_spool(f->pub);
	mqtt_publisher_destroy(f->pub);
	f->pub = NULL;
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	for (int i = 31; i <= 35; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.queued_events, 35);
	assert_int_equal(st.dropped_events, 0);

	broker_start(&f->broker);
	sub_start(&f->sub, f->broker.port, "t15/#");
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t15/pump/event", 35, 3000));
	struct rx got[40];
	size_t n = sub_collect(&f->sub, "t15/pump/event", got, 40);
	assert_numbered(got, n, 1, 35);
	assert_true(sub_wait(&f->sub, f->pub, "t15/pump/state", 1, 3000));
	n = sub_collect(&f->sub, "t15/pump/state", got, 40);
	assert_string_equal(got[n - 1].payload, "anomaly");
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.spooled, 0);
	struct stat fst;
	assert_int_equal(stat(file, &fst), 0);
	assert_int_equal(fst.st_size, 0);
	unlink(file);
	rmdir(dir);
}

/* A reload that changes the link opens the spool file again while the old link still flushes
 * what it holds: once released, the old link's acknowledgements no longer compact the file,
 * which put the old link's copy back over the new one's, so that what the new link accepted
 * afterwards was gone after a crash. */
static void released_spool_stays_the_new_links(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64], dir[] = "/tmp/test_pub_spool_XXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/events.spool", dir);
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t17");
	s.spool_dir = dir;
	struct auscult_err err = { { 0 } };
	struct mqtt_publisher *old_link = NULL;
	assert_int_equal(mqtt_publisher_create(&old_link, &s, &err), AUSCULT_OK);
	for (int i = 1; i <= 300; i++) /* over the 256 records at which done ones are compacted */
		enqueue_numbered(old_link, "pump/event", i, MESSAGE_EVENT);
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	mqtt_publisher_release_spool(old_link);
	broker_start(&f->broker);
	assert_true(pump_until_flushed(old_link, 10000)); /* every event acknowledged */
	mqtt_publisher_destroy(old_link);
	enqueue_numbered(f->pub, "pump/event", 301, MESSAGE_EVENT);

	/* The new link crashes here: its spool must hold all 301. */
	struct spool *sp = NULL;
	assert_int_equal(spool_open(&sp, dir, 64u << 20, NULL, &err), AUSCULT_OK);
	assert_int_equal(spool_live(sp), 301);
	spool_close(sp);
	mqtt_publisher_release_spool(f->pub); /* the test opened it itself */
	unlink(file);
	rmdir(dir);
}

/* The evidence picture is kept in memory only: with the outbox full of spooled events it is
 * the one dropped, never an event (it used to push out the oldest, and take it off the disk). */
static void picture_never_pushes_out_a_spooled_event(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64], dir[] = "/tmp/test_pub_spool_XXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/events.spool", dir);
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t18");
	s.spool_dir = dir;
	s.offline_buffer = 10;
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	for (int i = 1; i <= 10; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	static const unsigned char png[64] = { 0x89, 'P', 'N', 'G' };
	assert_int_equal(mqtt_publisher_enqueue_bytes(f->pub, "pump/evidence/image", png,
						      sizeof(png), MESSAGE_STATE, false),
			 AUSCULT_ERR_NOMEM);
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.dropped_events, 0);
	assert_int_equal(st.queued_events, 10);
	assert_int_equal(st.spooled, 10);
	broker_start(&f->broker);
	sub_start(&f->sub, f->broker.port, "t18/#");
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t18/pump/event", 10, 3000));
	struct rx got[12];
	assert_numbered(got, sub_collect(&f->sub, "t18/pump/event", got, 12), 1, 10);
	unlink(file);
	rmdir(dir);
}

/* A broker restarted without persistence forgets retained messages: the link sends each
 * monitor's latest state again when it reconnects, and forgets a monitor that was removed. */
static void states_sent_again_after_broker_restart(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t16");
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	const char *names[] = { "pump", "fan" };
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, names, 2, &err), AUSCULT_OK);
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "normal", MESSAGE_STATE),
			 AUSCULT_OK);
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "pump/state", "anomaly", MESSAGE_STATE),
			 AUSCULT_OK);
	assert_int_equal(mqtt_publisher_enqueue(f->pub, "fan/state", "normal", MESSAGE_STATE),
			 AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	assert_true(pump_until_flushed(f->pub, 5000));
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, names, 1, &err), AUSCULT_OK);

	broker_stop(&f->broker); /* no persistence: the retained states are gone with it */
	pump(f->pub, 300);
	broker_start(&f->broker);
	assert_true(pump_until_connected(f->pub, 10000));
	assert_true(pump_until_flushed(f->pub, 5000));
	sub_start(&f->sub, f->broker.port, "t16/#"); /* retained messages only */
	assert_true(sub_wait(&f->sub, f->pub, "t16/pump/state", 1, 3000));
	struct rx got[4];
	assert_int_equal(sub_collect(&f->sub, "t16/pump/state", got, 4), 1);
	assert_string_equal(got[0].payload, "anomaly");
	pump(f->pub, 300);
	assert_int_equal(sub_collect(&f->sub, "t16/fan/state", got, 4), 0);
}

static void outage_mid_stream_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t4");
	sub_start(&f->sub, f->broker.port, "t4/#");
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	int n = 0;
	for (; n < 20; n++) {
		enqueue_numbered(f->pub, "pump/event", n + 1, MESSAGE_EVENT);
		enqueue_numbered(f->pub, "pump/score", n + 1, MESSAGE_SCORE);
		pump(f->pub, 20);
	}
	assert_true(pump_until_flushed(f->pub, 5000));
	assert_true(sub_wait(&f->sub, f->pub, "t4/pump/event", 20, 3000));

	/* The broker goes away while the machine keeps producing events. */
	broker_stop(&f->broker);
	for (int t = 0; t < 60; t++, n++) {
		enqueue_numbered(f->pub, "pump/event", n + 1, MESSAGE_EVENT);
		pump(f->pub, 50);
	}
	assert_false(mqtt_publisher_connected(f->pub));
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_true(st.queued >= 60);

	broker_start(&f->broker);
	sub_start(&f->sub2, f->broker.port, "t4/#");
	assert_true(pump_until_flushed(f->pub, 15000));
	assert_true(sub_wait(&f->sub2, f->pub, "t4/pump/event", 60, 3000));
	pump(f->pub, 200); /* any duplicate would arrive now */

	struct rx *got = calloc(200, sizeof(*got));
	assert_non_null(got);
	size_t n1 = sub_collect(&f->sub, "t4/pump/event", got, 200);
	size_t n2 = sub_collect(&f->sub2, "t4/pump/event", got + n1, 200 - n1);
	assert_numbered_at_least_once(got, n1 + n2, 1, n, MAX_IN_FLIGHT_REPEATS);
	free(got);
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.dropped_events, 0);
}

static void full_outbox_drops_scores_first(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t5");
	s.offline_buffer = 10;
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	pump(f->pub, 100);
	for (int i = 1; i <= 4; i++)
		enqueue_numbered(f->pub, "fan/event", i, MESSAGE_EVENT);
	for (int i = 1; i <= 20; i++)
		mqtt_publisher_enqueue(f->pub, "fan/score", "{\"raw\":1}", MESSAGE_SCORE);
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.dropped_scores, 14);
	assert_int_equal(st.dropped_events, 0);
	for (int i = 5; i <= 12; i++)
		enqueue_numbered(f->pub, "fan/event", i, MESSAGE_EVENT);
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.dropped_scores, 20);
	assert_int_equal(st.dropped_events, 2); /* events 1 and 2 */

	broker_start(&f->broker);
	sub_start(&f->sub, f->broker.port, "t5/#");
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t5/fan/event", 10, 3000));
	struct rx got[16];
	size_t n = sub_collect(&f->sub, "t5/fan/event", got, 16);
	assert_numbered(got, n, 3, 12);
	assert_int_equal(sub_collect(&f->sub, "t5/fan/score", NULL, 0), 0);
}

static void shutdown_delivers_then_says_offline(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t6");
	sub_start(&f->sub, f->broker.port, "t6/#");
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	for (int i = 1; i <= 30; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	mqtt_publisher_shutdown(f->pub, 5000);
	assert_false(mqtt_publisher_connected(f->pub));
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.queued, 0);
	assert_true(sub_wait(&f->sub, NULL, "t6/status", 2, 3000));
	struct rx *got = calloc(64, sizeof(*got));
	assert_non_null(got);
	size_t n = sub_collect(&f->sub, "t6/pump/event", got, 64);
	assert_numbered(got, n, 1, 30);
	assert_int_equal(sub_collect(&f->sub, "t6/status", got, 2), 2);
	assert_string_equal(got[1].payload, "offline");
	/* Retained: a newcomer learns the daemon is gone. */
	sub_start(&f->sub2, f->broker.port, "t6/status");
	assert_true(sub_wait(&f->sub2, NULL, "t6/status", 1, 3000));
	assert_int_equal(sub_collect(&f->sub2, "t6/status", got, 1), 1);
	assert_string_equal(got[0].payload, "offline");
	assert_int_equal(got[0].retained, 1);
	free(got);
	mqtt_publisher_poll(f->pub); /* a no-op after shutdown */
	assert_false(mqtt_publisher_connected(f->pub));
}

static void ha_discovery_announced_and_reannounced(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t7");
	s.ha_discovery = true;
	s.ha_prefix = (char *)(uintptr_t) "ha7";
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	const char *const names[] = { "pump", "fan" };
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, names, 2, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	pump(f->pub, 300);

	const char *problem = "ha7/binary_sensor/auscult-test/pump_problem/config";
	const char *score = "ha7/sensor/auscult-test/fan_score/config";
	sub_start(&f->sub, f->broker.port, "ha7/+/auscult-test/#");
	assert_true(sub_wait(&f->sub, NULL, problem, 1, 3000));
	assert_true(sub_wait(&f->sub, NULL, score, 1, 3000));
	struct rx got[4];
	assert_int_equal(sub_collect(&f->sub, problem, got, 4), 1);
	assert_int_equal(got[0].retained, 1);
	assert_non_null(strstr(got[0].payload, "\"device_class\":\"problem\""));
	assert_non_null(strstr(got[0].payload, "\"state_topic\":\"t7/pump/state\""));
	assert_non_null(strstr(got[0].payload, "\"availability\":[{\"topic\":\"t7/status\""));
	assert_non_null(strstr(got[0].payload, "\"unique_id\":\"auscult-test_pump_problem\""));
	assert_non_null(strstr(got[0].payload, "\"identifiers\":[\"auscult-test\"]"));
	assert_int_equal(sub_collect(&f->sub, score, got, 4), 1);
	assert_non_null(strstr(got[0].payload, "\"value_template\":\"{{ value_json.smoothed }}\""));
	assert_non_null(strstr(got[0].payload, "\"state_topic\":\"t7/fan/score\""));

	/* Home Assistant restarts: it says online, we announce again. */
	sub_clear(&f->sub);
	sub_publish(&f->sub, "ha7/status", "online", 0);
	assert_true(sub_wait(&f->sub, f->pub, problem, 1, 3000));
	assert_true(sub_wait(&f->sub, f->pub, score, 1, 3000));

	/* A monitor removed from the config is removed from Home Assistant (empty config). */
	sub_clear(&f->sub);
	const char *const only_pump[] = { "pump" };
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, only_pump, 1, &err), AUSCULT_OK);
	assert_true(sub_wait(&f->sub, f->pub, score, 1, 3000));
	assert_int_equal(sub_collect(&f->sub, score, got, 4), 1);
	assert_string_equal(got[0].payload, "");

	const char *const bad[] = { "pump/x" };
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, bad, 1, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "monitor name 'pump/x' cannot be used in topics"));
}

/* Retained discovery configs on topic filter, as a newcomer to the broker sees them. */
static size_t retained_configs(int port, const char *filter, struct rx *got, size_t max)
{
	struct sub s;
	sub_start(&s, port, filter);
	sleep_ms(500); /* retained messages arrive right after the subscription */
	pthread_mutex_lock(&s.lock);
	size_t n = 0;
	for (size_t i = 0; i < s.n && n < max; i++)
		if (s.msgs[i].retained && s.msgs[i].payload[0])
			got[n++] = s.msgs[i];
	pthread_mutex_unlock(&s.lock);
	sub_stop(&s);
	return n;
}

static bool has_topic(const struct rx *got, size_t n, const char *topic)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(got[i].topic, topic) == 0)
			return true;
	return false;
}

/* A monitor removed from the config while the daemon was stopped (or whose clears a lost
 * connection swallowed) leaves retained configs behind; the next connection clears them, and
 * only them: not the monitors still configured, not another daemon's. */
static void discovery_of_monitors_removed_while_stopped_is_cleared(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t9");
	s.ha_discovery = true;
	s.ha_prefix = (char *)(uintptr_t) "ha9";
	struct auscult_err err = { { 0 } };
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	const char *const both[] = { "pump", "fan_2" };
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, both, 2, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	pump(f->pub, 500);
	mqtt_publisher_shutdown(f->pub, 3000);
	mqtt_publisher_destroy(f->pub);
	f->pub = NULL;

	struct rx *got = calloc(32, sizeof(*got));
	assert_non_null(got);
	assert_int_equal(retained_configs(f->broker.port, "ha9/#", got, 32),
			 2 * HA_DISCOVERY_PER_MONITOR);
	sub_start(&f->sub, f->broker.port, "t9/status");
	const char *foreign = "ha9/sensor/other-daemon/fan_2_score/config";
	sub_publish(&f->sub, foreign, "{\"name\":\"theirs\"}", 1);

	/* Started again without fan_2. */
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	const char *const only_pump[] = { "pump" };
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, only_pump, 1, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	pump(f->pub, 1000);
	size_t n = retained_configs(f->broker.port, "ha9/#", got, 32);
	assert_int_equal(n, HA_DISCOVERY_PER_MONITOR + 1);
	assert_true(has_topic(got, n, foreign));
	assert_true(has_topic(got, n, "ha9/binary_sensor/auscult-test/pump_problem/config"));
	assert_false(has_topic(got, n, "ha9/binary_sensor/auscult-test/fan_2_problem/config"));

	/* A reload back to both announces fan_2 again; a reload to none clears every one of
	 * ours. */
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, both, 2, &err), AUSCULT_OK);
	pump(f->pub, 1000);
	assert_int_equal(retained_configs(f->broker.port, "ha9/#", got, 32),
			 2 * HA_DISCOVERY_PER_MONITOR + 1);
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, NULL, 0, &err), AUSCULT_OK);
	pump(f->pub, 1000);
	n = retained_configs(f->broker.port, "ha9/#", got, 32);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].topic, foreign);
	free(got);

	/* A retained topic under the node too long to be one of ours is left alone, and is not
	 * subscribed for again and again (it was: 4-5 times a second, for ever). */
	mqtt_publisher_destroy(f->pub);
	f->pub = NULL;
	broker_stop(&f->broker);
	broker_write_conf(&f->broker, "allow_anonymous true\nlog_type all\n");
	broker_start(&f->broker);
	sub_stop(&f->sub);
	sub_start(&f->sub, f->broker.port, "t9/status");
	char long_topic[700];
	snprintf(long_topic, sizeof(long_topic), "ha9/sensor/auscult-test/%0600d_state/config", 0);
	sub_publish(&f->sub, long_topic, "{\"name\":\"theirs\"}", 1);
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_int_equal(mqtt_publisher_set_monitors(f->pub, only_pump, 1, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	pump(f->pub, 3000);
	char log_path[128], line[1024];
	snprintf(log_path, sizeof(log_path), "%s/mosquitto.log", f->broker.dir);
	FILE *log = fopen(log_path, "r");
	assert_non_null(log);
	int subscribes = 0;
	while (fgets(line, sizeof(line), log))
		subscribes += strstr(line, "Received SUBSCRIBE from auscult-test") != NULL;
	fclose(log);
	assert_true(subscribes >= 1);
	assert_true(subscribes <= 2); /* the configs' filter and Home Assistant's status */
}

static void bad_settings_are_named(void **state)
{
	(void)state;
	struct mqtt_settings s;
	char uri[64];
	struct auscult_err err = { { 0 } };
	struct mqtt_publisher *p = (struct mqtt_publisher *)&err; /* must become NULL */

	settings_for(&s, uri, sizeof(uri), 1883, "t8");
	s.password_file = (char *)(uintptr_t) "/nonexistent/auscult-pw";
	assert_int_equal(mqtt_publisher_create(&p, &s, &err), AUSCULT_ERR_IO);
	assert_null(p);
	assert_non_null(strstr(err.msg, "mqtt.password_file: cannot read the password file "
					"'/nonexistent/auscult-pw': No such file or directory"));

	settings_for(&s, uri, sizeof(uri), 1883, "t8");
	s.uri = (char *)(uintptr_t) "http://localhost:1883";
	assert_int_equal(mqtt_publisher_create(&p, &s, &err), AUSCULT_ERR_INVALID);
	assert_non_null(
		strstr(err.msg, "mqtt.uri: 'http://localhost:1883' has an unsupported scheme"));

	settings_for(&s, uri, sizeof(uri), 1883, "t8");
	s.uri = (char *)(uintptr_t) "mqtts://localhost";
	s.ca_file = (char *)(uintptr_t) "/nonexistent/ca.pem";
	assert_int_equal(mqtt_publisher_create(&p, &s, &err), AUSCULT_ERR_IO);
	assert_non_null(
		strstr(err.msg, "mqtt.ca_file: cannot read the CA file '/nonexistent/ca.pem'"));

	settings_for(&s, uri, sizeof(uri), 1883, "t8/");
	assert_int_equal(mqtt_publisher_create(&p, &s, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "mqtt.topic_prefix: 't8/' has an empty topic level"));

	/* An empty password file is a fault too; a readable one works. */
	char pw[] = "/tmp/auscult-pw-XXXXXX";
	int fd = mkstemp(pw);
	assert_true(fd >= 0);
	close(fd);
	settings_for(&s, uri, sizeof(uri), 1883, "t8");
	s.password_file = pw;
	s.username = (char *)(uintptr_t) "auscult";
	assert_int_equal(mqtt_publisher_create(&p, &s, &err), AUSCULT_ERR_FORMAT);
	assert_non_null(strstr(err.msg, "the MQTT password file is empty"));
	FILE *f = fopen(pw, "w");
	assert_non_null(f);
	fputs("s3cret\n", f);
	fclose(f);
	/* Readable by everyone: it works, with a warning naming the file (stderr captured). */
	chmod(pw, 0644);
	char log_path[] = "/tmp/auscult-log-XXXXXX";
	int log_fd = mkstemp(log_path);
	assert_true(log_fd >= 0);
	int saved = dup(2);
	dup2(log_fd, 2);
	int rc = mqtt_publisher_create(&p, &s, &err);
	dup2(saved, 2);
	close(saved);
	char logged[1024] = { 0 };
	ssize_t got = pread(log_fd, logged, sizeof(logged) - 1, 0);
	close(log_fd);
	unlink(log_path);
	assert_int_equal(rc, AUSCULT_OK);
	assert_true(got > 0);
	char want[200];
	snprintf(want, sizeof(want),
		 "%s: the MQTT password file is readable by everyone; chmod 600 it", pw);
	assert_non_null(strstr(logged, want));
	assert_non_null(p);
	assert_int_equal(mqtt_publisher_enqueue(p, "", "x", MESSAGE_EVENT), AUSCULT_ERR_INVALID);
	assert_int_equal(mqtt_publisher_enqueue(p, "a/#", "x", MESSAGE_EVENT), AUSCULT_ERR_INVALID);
	mqtt_publisher_destroy(p);
	mqtt_publisher_destroy(NULL);
	unlink(pw);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
}

/* Connects a fresh publisher; returns 1 once connected within 10 s, else 0. With why (a refusal
 * is expected), 0 as soon as an attempt fails, with the stderr lines that say why in why. */
/* One connect attempt (see try_connect) whose log lines land in log_out (may be NULL). */
static int attempt(const struct mqtt_settings *s, bool expect_refusal, char *log_out,
		   size_t log_cap)
{
	struct mqtt_publisher *p = NULL;
	struct auscult_err err;
	char log_path[] = "/tmp/auscult-log-XXXXXX";
	int log_fd = mkstemp(log_path);
	assert_true(log_fd >= 0);
	int saved = dup(2);
	dup2(log_fd, 2);
	assert_int_equal(mqtt_publisher_create(&p, s, &err), AUSCULT_OK);
	int outcome = -1;
	struct mqtt_publisher_stats st;
	/* A refusal ends the wait at the first failed attempt; a connection that should succeed
	 * gets the whole 10 s, retries included (a loaded machine can fail a TLS handshake once). */
	for (int t = 0; t < 10000 && outcome < 0; t += 10) {
		mqtt_publisher_poll(p);
		mqtt_publisher_stats(p, &st);
		if (mqtt_publisher_connected(p))
			outcome = 1;
		else if (expect_refusal && st.connect_failures > 0)
			outcome = 0;
		else
			sleep_ms(10);
	}
	if (outcome < 0)
		outcome = 0;
	mqtt_publisher_destroy(p);
	dup2(saved, 2);
	close(saved);
	if (log_out) {
		ssize_t got = pread(log_fd, log_out, log_cap - 1, 0);
		log_out[got > 0 ? got : 0] = '\0';
	}
	close(log_fd);
	unlink(log_path);
	return outcome;
}

/* 1 when s connects, 0 when refused; with why, a refusal is expected and its log lines are
 * copied there. */
static int try_connect(const struct mqtt_settings *s, char *why, size_t why_cap)
{
	return attempt(s, why != NULL, why, why_cap);
}

static void tls_and_password(void **state)
{
	struct fixture *f = *state;
	const char *dir = f->broker.dir;
	char cmd[512], path[6][200];
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/publish/lib/make_test_certs.sh' '%s'",
		 AUSCULT_SOURCE_DIR, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path[0], sizeof(path[0]), "%s/passwd", dir);
	snprintf(cmd, sizeof(cmd), "mosquitto_passwd -c -b '%s' auscult 'pa ss'", path[0]);
	assert_int_equal(system(cmd), 0);
	chmod(path[0], 0644); /* mosquitto reads it after dropping root */
	snprintf(path[1], sizeof(path[1]), "%s/ca.pem", dir);
	snprintf(path[2], sizeof(path[2]), "%s/pw-good", dir);
	snprintf(path[3], sizeof(path[3]), "%s/pw-bad", dir);
	write_file(path[2], "pa ss\n", 0600);
	write_file(path[3], "wrong\n", 0600);

	f->broker.port2 = free_port();
	char extra[1024];
	snprintf(extra, sizeof(extra),
		 "allow_anonymous false\npassword_file %s\nlistener %d 127.0.0.1\ncafile %s\n"
		 "certfile %s/server.pem\nkeyfile %s/server.key\n",
		 path[0], f->broker.port2, path[1], dir, dir);
	broker_write_conf(&f->broker, extra);
	broker_start(&f->broker);
	for (int i = 0; i < 300 && !port_open(f->broker.port2); i++)
		sleep_ms(10);
	sub_start_auth(&f->sub, f->broker.port, "t9/#", "auscult", "pa ss");

	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t9");
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", f->broker.port2);
	s.username = (char *)(uintptr_t) "auscult";
	s.password_file = path[2];
	s.ca_file = path[1];
	struct auscult_err err;
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	enqueue_numbered(f->pub, "pump/event", 1, MESSAGE_EVENT);
	assert_true(pump_until_flushed(f->pub, 5000));
	assert_true(sub_wait(&f->sub, f->pub, "t9/pump/event", 1, 3000));
	mqtt_publisher_destroy(f->pub);
	f->pub = NULL;

	/* Verification is on by default: our test CA is not in the system store. */
	char why[2048];
	s.ca_file = NULL;
	assert_int_equal(try_connect(&s, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "TLS: "));
	assert_non_null(strstr(why, "certificate verify failed"));
	assert_non_null(strstr(why, "set mqtt.ca_file to the CA that signed it"));
	/* ... and can be turned off, with a warning at every connection. */
	s.verify_server = false;
	char log[2048];
	assert_int_equal(attempt(&s, false, log, sizeof(log)), 1);
	assert_non_null(strstr(log, "without checking its certificate or host name "
				    "(mqtt.verify_server: false)"));
	/* A wrong password is refused. */
	s.verify_server = true;
	s.ca_file = path[1];
	s.password_file = path[3];
	assert_int_equal(try_connect(&s, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "not authorised; check mqtt.username and mqtt.password_file"));
	/* Plain listener, right password. */
	snprintf(uri, sizeof(uri), "mqtt://127.0.0.1:%d", f->broker.port);
	s.ca_file = NULL; /* TLS-only settings are refused on a plain link */
	s.password_file = path[2];
	assert_int_equal(try_connect(&s, NULL, 0), 1);
}

/* Host name checks and client certificates, on two TLS listeners: one whose certificate names
 * another host, one that requires a client certificate signed by our CA. */
static void tls_host_name_and_client_cert(void **state)
{
	struct fixture *f = *state;
	const char *dir = f->broker.dir;
	char cmd[512], ca[200], cert[200], key[200];
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/publish/lib/make_test_certs.sh' '%s'",
		 AUSCULT_SOURCE_DIR, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", dir);
	snprintf(key, sizeof(key), "%s/client.key", dir);
	int wrong_port = free_port(), client_port = free_port();
	char extra[1024];
	snprintf(extra, sizeof(extra),
		 "allow_anonymous true\n"
		 "listener %d 127.0.0.1\ncafile %s\ncertfile %s/wrong.pem\nkeyfile %s/wrong.key\n"
		 "listener %d 127.0.0.1\ncafile %s\ncertfile %s/server.pem\nkeyfile %s/server.key\n"
		 "require_certificate true\n",
		 wrong_port, ca, dir, dir, client_port, ca, dir, dir);
	broker_write_conf(&f->broker, extra);
	broker_start(&f->broker);
	for (int i = 0; i < 300 && !(port_open(wrong_port) && port_open(client_port)); i++)
		sleep_ms(10);

	struct mqtt_settings s;
	char uri[64], why[2048];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t13");
	s.ca_file = ca;
	/* The right CA, but the certificate names wrong.example: refused. */
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", wrong_port);
	assert_int_equal(try_connect(&s, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "host name mismatch: the broker's certificate is for "
				    "wrong.example, not for '127.0.0.1' in mqtt.uri"));
	/* ... unless verification is turned off. */
	s.verify_server = false;
	assert_int_equal(try_connect(&s, NULL, 0), 1);
	s.verify_server = true;

	/* A broker that requires a client certificate: refused without one ... */
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", client_port);
	assert_int_equal(try_connect(&s, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "the broker requires a client certificate"));
	assert_non_null(strstr(why, "set mqtt.cert_file and mqtt.key_file"));
	/* ... and connects with one. */
	s.cert_file = cert;
	s.key_file = key;
	assert_int_equal(try_connect(&s, NULL, 0), 1);

	/* TLS to a plain listener (mosquitto hangs up on a handshake), and nothing listening at all: each said plainly. */
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", f->broker.port);
	assert_int_equal(try_connect(&s, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "during the handshake; is port"));
	int closed_port = free_port();
	snprintf(uri, sizeof(uri), "mqtt://127.0.0.1:%d", closed_port);
	s.ca_file = s.cert_file = s.key_file = NULL;
	assert_int_equal(try_connect(&s, why, sizeof(why)), 0);
	char expected[100];
	snprintf(expected, sizeof(expected),
		 "nothing accepts connections on 127.0.0.1 port %d (connection refused)",
		 closed_port);
	assert_non_null(strstr(why, expected));
}

struct producer {
	struct mqtt_publisher *p;
	const char *suffix;
	int n;
};

static void *produce(void *arg)
{
	struct producer *pr = arg;
	for (int i = 1; i <= pr->n; i++) {
		char payload[32];
		snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
		mqtt_publisher_enqueue(pr->p, pr->suffix, payload, MESSAGE_EVENT);
		if (i % 50 == 0)
			sleep_ms(5);
	}
	return NULL;
}

static void enqueue_from_threads(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t10");
	sub_start(&f->sub, f->broker.port, "t10/#");
	struct auscult_err err;
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	assert_true(pump_until_connected(f->pub, 5000));
	struct producer a = { f->pub, "a/event", 300 }, b = { f->pub, "b/event", 300 };
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, produce, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, produce, &b), 0);
	pump(f->pub, 200); /* the main loop keeps polling while monitors enqueue */
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_true(pump_until_flushed(f->pub, 10000));
	assert_true(sub_wait(&f->sub, f->pub, "t10/a/event", 300, 3000));
	assert_true(sub_wait(&f->sub, f->pub, "t10/b/event", 300, 3000));
	struct rx *got = calloc(400, sizeof(*got));
	assert_non_null(got);
	assert_numbered(got, sub_collect(&f->sub, "t10/a/event", got, 400), 1, 300);
	assert_numbered(got, sub_collect(&f->sub, "t10/b/event", got, 400), 1, 300);
	free(got);
}

static void shutdown_is_bounded_when_broker_is_down(void **state)
{
	struct fixture *f = *state;
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), f->broker.port, "t11");
	struct auscult_err err;
	assert_int_equal(mqtt_publisher_create(&f->pub, &s, &err), AUSCULT_OK);
	for (int i = 1; i <= 3; i++)
		enqueue_numbered(f->pub, "pump/event", i, MESSAGE_EVENT);
	mqtt_publisher_poll(f->pub);
	double t0 = clock_mono_s();
	mqtt_publisher_shutdown(f->pub, 300);
	double took_s = clock_mono_s() - t0;
	assert_true(took_s >= 0.29 && took_s < 1.5); /* waits its 300 ms, not more than ~1 s over */
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(f->pub, &st);
	assert_int_equal(st.queued, 3);
	assert_false(mqtt_publisher_connected(f->pub));
}

/* The child of will_says_offline_when_killed: connect, say ready, poll until killed. */
static int will_child(const char *port, const char *prefix)
{
	struct mqtt_settings s;
	char uri[64];
	settings_for(&s, uri, sizeof(uri), atoi(port), prefix);
	s.client_id = (char *)(uintptr_t) "auscult-will-child";
	struct auscult_err err;
	struct mqtt_publisher *p;
	if (mqtt_publisher_create(&p, &s, &err) != AUSCULT_OK)
		return 1;
	bool said = false;
	for (int t = 0; t < 30000; t += 10) { /* bounded even if the parent forgets us */
		mqtt_publisher_poll(p);
		if (!said && mqtt_publisher_connected(p)) {
			pump(p, 200); /* let "online" reach the broker */
			ssize_t w = write(1, "ready\n", 6);
			(void)w;
			said = true;
		}
		sleep_ms(10);
	}
	return 2;
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc == 4 && strcmp(argv[1], "--will-child") == 0)
		return will_child(argv[2], argv[3]);
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_settings_are_named),
		cmocka_unit_test_setup_teardown(online_retained_events_in_order, setup_broker,
						teardown),
		cmocka_unit_test_setup_teardown(will_says_offline_when_killed, setup_broker,
						teardown),
		cmocka_unit_test_setup_teardown(spool_outlives_the_publisher, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(spool_larger_than_outbox, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(outbox_full_events_wait_on_disk, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(states_sent_again_after_broker_restart,
						setup_broker, teardown),
		cmocka_unit_test_setup_teardown(released_spool_stays_the_new_links, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(picture_never_pushes_out_a_spooled_event,
						setup_no_broker, teardown),
		cmocka_unit_test_setup_teardown(broker_down_at_start_then_up, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(outage_mid_stream_loses_nothing, setup_broker,
						teardown),
		cmocka_unit_test_setup_teardown(full_outbox_drops_scores_first, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(shutdown_delivers_then_says_offline, setup_broker,
						teardown),
		cmocka_unit_test_setup_teardown(ha_discovery_announced_and_reannounced,
						setup_broker, teardown),
		cmocka_unit_test_setup_teardown(
			discovery_of_monitors_removed_while_stopped_is_cleared, setup_broker,
			teardown),
		cmocka_unit_test_setup_teardown(tls_and_password, setup_no_broker, teardown),
		cmocka_unit_test_setup_teardown(tls_host_name_and_client_cert, setup_no_broker,
						teardown),
		cmocka_unit_test_setup_teardown(enqueue_from_threads, setup_broker, teardown),
		cmocka_unit_test_setup_teardown(shutdown_is_bounded_when_broker_is_down,
						setup_no_broker, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
