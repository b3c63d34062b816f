/* sd_notify.c - the systemd notify protocol: one datagram of KEY=VALUE lines to $NOTIFY_SOCKET. */
#include "daemon/sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !path[0])
		return 0;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	/* '@' marks Linux's abstract namespace, where the name starts with a NUL byte. */
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
			   salen);
	int rc = n < 0 ? -errno : 1;
	close(fd);
	return rc;
}

uint64_t sd_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	if (!usec || !usec[0])
		return 0;
	const char *pid = getenv("WATCHDOG_PID");
	if (pid && pid[0] && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(usec, &end, 10);
	if (errno || !end || *end != '\0')
		return 0;
	return (uint64_t)v;
}
