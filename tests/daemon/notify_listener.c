/* notify_listener.c - plays systemd's side of the notify protocol for the daemon shell tests. */
/*
 * Usage: notify_listener SOCKET_PATH MAX_S
 *
 * Binds an AF_UNIX datagram socket at SOCKET_PATH (what systemd passes as $NOTIFY_SOCKET) and
 * writes one line to stdout per KEY=VALUE line of every datagram received, flushed at once:
 *
 *   <CLOCK_REALTIME ms, 3 decimals> <sender pid> <datagram number> <KEY=VALUE>
 *
 * The sender pid comes from SCM_CREDENTIALS, as systemd takes it to apply NotifyAccess=main.
 * Realtime, not monotonic, so that a shell script can compare it with `date +%s%3N`.
 * Exits 0 on SIGTERM or SIGINT, or after MAX_S seconds (so that it can never hang a test),
 * removing the socket; 1 on a setup error, with the reason on stderr.
 */
/* struct ucred and SCM_CREDENTIALS are GNU extensions of <sys/socket.h>. */
#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DATAGRAM_MAX 4096 /* systemd's own limit for a notify message is a little below this */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Prints each line of one datagram (a trailing newline is optional in the protocol). */
static void print_datagram(const char *buf, size_t len, long pid, unsigned seq)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	long us = (ts.tv_nsec / 1000) % 1000;
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && buf[end] != '\n')
			end++;
		if (end > i)
			printf("%lld.%03ld %ld %u %.*s\n", ms, us, pid, seq, (int)(end - i),
			       buf + i);
		i = end + 1;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: notify_listener SOCKET_PATH MAX_S\n");
		return 1;
	}
	const char *path = argv[1];
	double max_s = strtod(argv[2], NULL);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"notify_listener: %s: need an absolute path shorter than %zu bytes\n", path,
			sizeof(sa.sun_path));
		return 1;
	}
	if (max_s <= 0) {
		fprintf(stderr, "notify_listener: MAX_S '%s' must be a number > 0\n", argv[2]);
		return 1;
	}
	memcpy(sa.sun_path, path, strlen(path));

	struct sigaction act;
	memset(&act, 0, sizeof(act));
	sigemptyset(&act.sa_mask);
	act.sa_handler = on_stop;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "notify_listener: socket: %s\n", strerror(errno));
		return 1;
	}
	int one = 1;
	/* Credentials before bind: the first datagram must carry them too. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0) {
		fprintf(stderr, "notify_listener: SO_PASSCRED: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	unlink(path);
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "notify_listener: bind %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}

	double deadline_s = mono_s() + max_s;
	unsigned seq = 0;
	int rc = 0;
	while (!stop_requested) {
		double left_s = deadline_s - mono_s();
		if (left_s <= 0) {
			fprintf(stderr, "notify_listener: %.0f s are up, exiting\n", max_s);
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, left_s > 0.2 ? 200 : (int)(left_s * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "notify_listener: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (n <= 0)
			continue;

		char buf[DATAGRAM_MAX];
		union {
			struct cmsghdr align;
			char bytes[CMSG_SPACE(sizeof(struct ucred))];
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.bytes;
		msg.msg_controllen = sizeof(control.bytes);
		ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "notify_listener: recvmsg: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		long pid = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cred;
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				pid = (long)cred.pid;
			}
		}
		seq++;
		if ((size_t)got > sizeof(buf) || (msg.msg_flags & MSG_TRUNC)) {
			/* systemd drops an oversized message; the test must see that it happened. */
			print_datagram("TRUNCATED=1", 11, pid, seq);
			continue;
		}
		print_datagram(buf, (size_t)got, pid, seq);
	}
	close(fd);
	unlink(path);
	return rc;
}
