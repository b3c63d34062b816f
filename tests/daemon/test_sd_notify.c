/* test_sd_notify.c - datagrams reach a path socket and an abstract one; watchdog parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/sd_notify.h"

/* Binds a datagram socket at name (path, or '@' + abstract name); returns the fd. */
static int bind_socket(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(name);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
			 0);
	return fd;
}

static void expect_datagram(int fd, const char *text)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

static void test_path_socket(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/auscult-sdn-%ld.sock", (long)getpid());
	unlink(path);
	int fd = bind_socket(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sd_notify_send("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(sd_notify_send("STATUS=1 monitor: pump normal"), 1);
	expect_datagram(fd, "STATUS=1 monitor: pump normal");
	close(fd);
	unlink(path);
	/* Nobody listening any more: an error, not a crash */
	assert_true(sd_notify_send("WATCHDOG=1") < 0);
}

static void test_abstract_socket(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "@auscult-sdn-%ld", (long)getpid());
	int fd = bind_socket(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sd_notify_send("WATCHDOG=1"), 1);
	expect_datagram(fd, "WATCHDOG=1");
	close(fd);
}

static void test_not_under_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sd_notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_true(sd_notify_send("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_usec(void **state)
{
	(void)state;
	char pid[32];
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sd_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(sd_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sd_watchdog_usec(), 30000000);
	setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
	assert_int_equal(sd_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "30s", 1);
	assert_int_equal(sd_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_not_under_systemd),
		cmocka_unit_test(test_watchdog_usec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
