/* The worker's end of a control socket for tests: lines out with an
 * optional descriptor, request lines in (tests/lib/fakeworker.h). */
#include "tests/lib/fakeworker.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool fakeworker_send(int sock, const char *line, int fd)
{
	struct iovec iov = {.iov_base = (void *)line, .iov_len = strlen(line)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)strlen(line);
}

ssize_t fakeworker_recv_line(int sock, char *buf, size_t size, int ms)
{
	size_t n = 0;

	if (!size)
		return -1;
	while (n + 1 < size && (n == 0 || buf[n - 1] != '\n')) {
		struct pollfd p = {.fd = sock, .events = POLLIN};

		if (poll(&p, 1, ms) != 1 || read(sock, buf + n, 1) != 1)
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? (ssize_t)n : -1;
}
